"""The command line: start the platform or one service, and simulate its users."""

from __future__ import annotations

import gc
import importlib
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from teacher_hiring import links_cli, reconcile_cli, run_cli, token_cli
from teacher_hiring.chaos import cli as chaos_cli
from teacher_hiring.dead_letters_cli import app as dead_letters_app
from teacher_hiring.registry_cli import app as registry_app
from teacher_hiring.runtime.processes import DEFAULT_PORTS
from teacher_hiring.versions_cli import app as versions_app

app = typer.Typer(
    help="The teacher-hiring platform: exercises, hiring and bonus services over versioned events.",
    no_args_is_help=True,
)
console = Console()
app.add_typer(registry_app, name="registry")
app.add_typer(links_cli.app, name="links")
app.add_typer(versions_app, name="event-versions")
app.add_typer(dead_letters_app, name="dead-letters")
app.command("reconcile")(reconcile_cli.reconcile)
app.command("token")(token_cli.token)
app.command("chaos")(chaos_cli.chaos)
app.command("run")(run_cli.run)


class ServiceName(StrEnum):
    exercises = "exercises"
    hiring = "hiring"
    bonus = "bonus"


@app.command()
def serve(
    service: Annotated[ServiceName, typer.Argument(help="Which service to run")],
    host: Annotated[str | None, typer.Option(help="Listen address (default from settings)")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default from settings)")] = None,
) -> None:
    """Run one service: its HTTP API, outbox relay and event consumers, in this process."""
    import uvicorn

    from teacher_hiring.runtime.parent_death import follow_parent

    follow_parent()  # started by `run`: do not outlive it
    bootstrap_module = importlib.import_module(f"teacher_hiring.{service.value}.bootstrap")
    settings_module = importlib.import_module(f"teacher_hiring.{service.value}.settings")
    settings_class = next(
        value
        for name, value in vars(settings_module).items()
        if name.endswith("Settings") and name != "ServiceSettings"
    )
    try:
        settings = settings_class()
    except Exception as exc:  # pydantic's ValidationError names the field
        console.print(f"[red]{service.value}: invalid settings:[/red] {exc}")
        raise typer.Exit(2) from exc
    application = bootstrap_module.bootstrap(settings)
    _tune_garbage_collector()
    uvicorn.run(
        application,
        host=host or settings.host,
        port=port or settings.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )


@app.command()
def proxy(
    route: Annotated[
        list[str],
        typer.Option(
            help="LISTEN=UPSTREAM[,UPSTREAM...], e.g. "
            "127.0.0.1:8702=127.0.0.1:8712,127.0.0.1:8722; once per address to serve"
        ),
    ],
    wait: Annotated[
        float, typer.Option(min=0, help="Seconds a connection waits while no upstream accepts")
    ] = 5.0,
) -> None:
    """Give each service one address in front of its instances (TCP, round-robin, an instance
    that refuses connections skipped); `run --distributed` starts one."""
    from teacher_hiring.runtime import proxy as tcp_proxy
    from teacher_hiring.runtime.logging import configure_logging
    from teacher_hiring.runtime.parent_death import follow_parent

    try:
        routes = [tcp_proxy.Route.parse(text) for text in route]
    except ValueError as exc:
        console.print(f"[red]--route {exc}[/red]")
        raise typer.Exit(2) from exc
    configure_logging("proxy")
    follow_parent()
    tcp_proxy.run(routes, wait_s=wait)


def _tune_garbage_collector() -> None:
    """Fewer, cheaper collections: what exists after start-up lives as long as the process.

    Freezing it keeps full collections from walking it again and again, and a larger first
    generation makes collections rarer; both show as fewer latency spikes on requests.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


@app.command()
def simulate(
    candidates: Annotated[int, typer.Option(min=1, help="Candidates to register")] = 200,
    managers: Annotated[int, typer.Option(min=1, help="Managers to create")] = 4,
    exercises: Annotated[int, typer.Option(min=1, help="Exercises to write")] = 12,
    skill: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Chance that one attempt is correct")
    ] = 0.6,
    concurrency: Annotated[int, typer.Option(min=1, help="Candidates working at once")] = 8,
    seed: Annotated[int, typer.Option(help="Random seed, for a repeatable run")] = 1,
    settle_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the ledger to catch up")
    ] = 60.0,
    exercises_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['exercises']}",
    hiring_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['hiring']}",
    bonus_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['bonus']}",
) -> None:
    """Managers write exercises, candidates solve them, managers complicate leaked ones.

    Ends with a summary and a check that the bonus ledger holds exactly what hiring and
    exercises issued; exits non-zero if it does not.
    """
    from teacher_hiring import operator_client
    from teacher_hiring.simulation import Simulation, SimulationConfig

    config = SimulationConfig(
        candidates=candidates,
        managers=managers,
        exercises=exercises,
        skill=skill,
        concurrency=concurrency,
        seed=seed,
        settle_timeout_s=settle_timeout,
        exercises_url=exercises_url,
        hiring_url=hiring_url,
        bonus_url=bonus_url,
        operator_token=operator_client.operator_token(),
    )
    try:
        report = Simulation(config, console).run()
    except Exception as exc:
        console.print(f"[red]simulation failed: {exc}[/red]")
        raise typer.Exit(1) from exc
    report.print(console)
    if not report.ledger_matches:
        raise typer.Exit(1)


def _docs_dir() -> Path:
    checkout = Path(__file__).resolve().parents[2] / "docs"
    return checkout if checkout.is_dir() else Path("docs")


@app.command()
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
