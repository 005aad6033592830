"""`teacher-hiring registry ...`: the event schemas, validation against them, compatibility."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import jsonschema_rs
import typer
from rich.console import Console
from rich.table import Table

from teacher_hiring.messaging.compatibility import (
    MODES,
    VersionCheck,
    check_candidate,
    check_registry,
)
from teacher_hiring.messaging.registry import (
    RegistryError,
    SchemaRegistry,
    SchemaViolation,
    UnknownEvent,
)

app = typer.Typer(
    help="The schema registry: list, show and validate against event schemas; check that new "
    "versions keep each event's compatibility mode.",
    no_args_is_help=True,
)

EventName = Annotated[str, typer.Argument(help="The event name, e.g. ExerciseCreated")]


def _console() -> Console:
    return Console(highlight=False)


def _fail(message: str, code: int = 2) -> typer.Exit:
    _console().print(f"[red]{message}[/red]")
    return typer.Exit(code)


@app.callback()
def _options(
    ctx: typer.Context,
    schemas: Annotated[
        Path | None,
        typer.Option(help="The schema folder (default: TH_SCHEMAS_DIR, else the repo's schemas/)"),
    ] = None,
) -> None:
    ctx.obj = schemas


def _registry(ctx: typer.Context) -> SchemaRegistry:
    try:
        return SchemaRegistry.load(ctx.obj)
    except RegistryError as exc:
        raise _fail(str(exc)) from exc


def _read_json(source: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"{source}: cannot read: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _fail(f"{source}: not JSON: {exc}", code=1) from exc


@app.command("list")
def list_events(ctx: typer.Context) -> None:
    """Every event: its versions, topic, key, compatibility mode, producer and consumers."""
    registry = _registry(ctx)
    table = Table(title="Event schemas")
    for column in ("event", "versions", "topic", "key", "mode", "scope", "producer → consumers"):
        table.add_column(column, no_wrap=column in ("event", "versions", "mode"))
    for spec in registry.events():
        table.add_row(
            spec.name,
            ", ".join(f"v{version}" for version in spec.versions),
            spec.topic,
            spec.key,
            spec.compatibility,
            spec.scope,
            f"{spec.producer} → {', '.join(spec.consumers) or '-'}",
        )
    _console().print(table)


@app.command()
def show(
    ctx: typer.Context,
    event: EventName,
    version: Annotated[int | None, typer.Option(help="Which version (default: latest)")] = None,
) -> None:
    """Print one version's JSON Schema."""
    registry = _registry(ctx)
    try:
        spec = registry.spec(event)
        schema = registry.schema(event, spec.latest_version if version is None else version)
    except UnknownEvent as exc:
        raise _fail(str(exc)) from exc
    _console().print_json(data=schema, ensure_ascii=False)


@app.command()
def validate(
    ctx: typer.Context,
    event: EventName,
    version: Annotated[int, typer.Argument(help="The event_version, from 0")],
    document: Annotated[str, typer.Argument(help="A JSON file, or - for standard input")],
) -> None:
    """Validate a payload, or a whole event when the document has event_name, against a version.

    Exits 1 when the document is invalid, naming each offending field.
    """
    registry = _registry(ctx)
    data = _read_json(document)
    try:
        registry.validate_document(event, version, data)
    except UnknownEvent as exc:
        raise _fail(str(exc)) from exc
    except SchemaViolation as exc:
        console = _console()
        console.print(f"[red]invalid against {event} v{version}:[/red]")
        for error in exc.errors:
            console.print(f"  - {error}", soft_wrap=True)
        raise typer.Exit(1) from exc
    kind = "event" if isinstance(data, dict) and "event_name" in data else "payload"
    _console().print(f"[green]valid[/green] {kind} for {event} v{version}")


@app.command()
def check(
    ctx: typer.Context,
    event: Annotated[str | None, typer.Argument(help="Only this event (default: all)")] = None,
) -> None:
    """Check every version against the older ones under its event's mode; exit 1 if one breaks."""
    registry = _registry(ctx)
    try:
        specs = [registry.spec(event)] if event else registry.events()
        checks = check_registry(registry, [spec.name for spec in specs])
    except UnknownEvent as exc:
        raise _fail(str(exc)) from exc
    console = _console()
    table = Table(title="Compatibility of each version with the older ones")
    for column in ("event", "version", "mode", "verdict"):
        table.add_column(column, no_wrap=True)
    by_event: dict[str, list[VersionCheck]] = {}
    for found in checks:
        by_event.setdefault(found.event, []).append(found)
    for spec in specs:
        if not by_event.get(spec.name):
            table.add_row(spec.name, "v0", spec.compatibility, "[dim]only version[/dim]")
        for found in by_event.get(spec.name, []):
            verdict = "[green]ok[/green]" if found.result.compatible else "[red]BREAKS[/red]"
            table.add_row(found.event, f"v{found.version}", found.mode, verdict)
    console.print(table)
    broken = [found for found in checks if not found.result.compatible]
    for found in broken:
        console.print(f"\n[red]{found.event} v{found.version} breaks {found.mode}:[/red]")
        for message in found.result.messages:
            console.print(f"  - {message}", soft_wrap=True)
    if broken:
        raise typer.Exit(1)
    console.print("[green]every version keeps its event's compatibility mode[/green]")


@app.command()
def compat(
    ctx: typer.Context,
    event: EventName,
    schema_file: Annotated[str, typer.Argument(help="The proposed schema: a file, or -")],
    mode: Annotated[
        str | None,
        typer.Option(help=f"Check under this mode instead of the event's ({', '.join(MODES)})"),
    ] = None,
) -> None:
    """Would this schema be accepted as the event's next version? Exits 1 if not."""
    registry = _registry(ctx)
    if mode is not None and mode.upper() not in MODES:
        raise typer.BadParameter(f"must be one of {', '.join(MODES)}", param_hint="--mode")
    schema = _read_json(schema_file)
    try:
        jsonschema_rs.meta.validate(schema)
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
        raise _fail(f"{schema_file}: not a valid JSON Schema: {exc}", code=1) from exc
    try:
        spec = registry.spec(event)
    except UnknownEvent as exc:
        raise _fail(str(exc)) from exc
    chosen = mode.upper() if mode else spec.compatibility
    result = check_candidate(registry, event, schema, chosen)
    console = _console()
    next_version = spec.latest_version + 1
    if result.compatible:
        console.print(f"[green]accepted[/green] as {event} v{next_version} under {chosen}")
        return
    console.print(f"[red]refused[/red] as {event} v{next_version} under {chosen}:")
    for message in result.messages:
        console.print(f"  - {message}", soft_wrap=True)
    raise typer.Exit(1)
