"""`teacher-hiring catalogue`: the event catalogue and the AsyncAPI document, from the schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()


def _docs_dir() -> Path:
    checkout = Path(__file__).resolve().parents[3] / "docs"
    return checkout if checkout.is_dir() else Path("docs")


def catalogue(
    write: Annotated[
        bool, typer.Option("--write", help="Write docs/events.md and docs/asyncapi.yaml")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if a generated file in docs/ is stale (CI)")
    ] = False,
    asyncapi: Annotated[
        bool, typer.Option("--asyncapi", help="Print the AsyncAPI document, not the catalogue")
    ] = False,
    docs_dir: Annotated[
        Path | None, typer.Option(help="Where the generated files live (default: docs/)")
    ] = None,
) -> None:
    """The event catalogue and the AsyncAPI document (topics, keys, producers, consumers,
    fields, links), generated from the schemas; prints the catalogue unless told otherwise."""
    from teacher_hiring.messaging.catalogue import ASYNCAPI_FILE, EVENTS_FILE, documents
    from teacher_hiring.messaging.link_table import load_links
    from teacher_hiring.messaging.registry import RegistryError, SchemaRegistry

    if write and check:
        console.print("[red]--write and --check exclude each other[/red]")
        raise typer.Exit(2)
    try:
        registry = SchemaRegistry.load()
        generated = documents(registry, load_links(registry))
    except RegistryError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(1) from exc
    folder = docs_dir or _docs_dir()
    if write:
        for name, text in generated.items():
            (folder / name).write_text(text, encoding="utf-8")
            console.print(f"wrote {folder / name}")
    elif check:
        stale = [
            folder / name
            for name, text in generated.items()
            if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != text
        ]
        for path in stale:
            console.print(f"[red]{path} is stale: run `teacher-hiring catalogue --write`[/red]")
        if stale:
            raise typer.Exit(1)
        console.print(f"up to date: {', '.join(str(folder / name) for name in generated)}")
    else:
        typer.echo(generated[ASYNCAPI_FILE if asyncapi else EVENTS_FILE], nl=False)
