"""The command line: start the platform or one service, and simulate its users."""

from __future__ import annotations

import gc
import importlib
import signal
import subprocess
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from teacher_hiring import links_cli, reconcile_cli, token_cli
from teacher_hiring.chaos import cli as chaos_cli
from teacher_hiring.dead_letters_cli import app as dead_letters_app
from teacher_hiring.registry_cli import app as registry_app
from teacher_hiring.runtime.processes import DEFAULT_PORTS, SERVICES, Deployment, Platform
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


class WiringChoice(StrEnum):
    before = "before"
    after = "after"


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


def _tune_garbage_collector() -> None:
    """Fewer, cheaper collections: what exists after start-up lives as long as the process.

    Freezing it keeps full collections from walking it again and again, and a larger first
    generation makes collections rarer; both show as fewer latency spikes on requests.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


@app.command()
def run(
    data_dir: Annotated[
        Path, typer.Option(help="Where databases, the event log and logs go")
    ] = Path("var"),
    host: Annotated[str, typer.Option(help="Listen address of every service")] = "127.0.0.1",
    partitions: Annotated[int, typer.Option(min=1, help="Partitions per topic")] = 6,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed",
            help="Kafka and PostgreSQL (started by scripts/), two instances of hiring and bonus",
        ),
    ] = False,
    wiring: Annotated[
        WiringChoice | None,
        typer.Option(
            help="Set every link to the old wiring (before) or this system's (after) once the "
            "services are up (docs/runbooks/links.md); default: leave the links as they are",
        ),
    ] = None,
) -> None:
    """Start all three services and keep them running until Ctrl-C.

    By default on the embedded defaults (SQLite and the embedded event log, nothing else to
    install); with --distributed on Apache Kafka and PostgreSQL, as a cluster would run them.
    """
    auth = token_cli.platform_auth()  # one secret for every service (docs/security.md)
    deployment = Deployment(
        data_dir=data_dir,
        host=host,
        partitions=partitions,
        environment=auth.environment,
        auth_secret=auth.auth_secret.get_secret_value(),
    )
    if distributed:
        deployment = _distributed(deployment)
    platform = Platform(deployment)
    stopping = False

    def _stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        with console.status("starting exercises, hiring and bonus..."):
            platform.start()
        if wiring is not None:
            _wire(platform, wiring)
        _print_addresses(platform)
        while not stopping:
            for name, process in platform.processes.items():
                if not process.running():
                    console.print(
                        f"[red]{name} exited (code {process.exit_code()}); "
                        f"see {data_dir / 'logs' / (name + '.log')}. Restarting.[/red]"
                    )
                    process.start()
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    except (RuntimeError, TimeoutError) as exc:  # WiringFailed is a RuntimeError
        console.print(f"[red]could not start: {exc}[/red] (logs in {data_dir / 'logs'})")
        platform.stop()
        _stop_servers(distributed)
        raise typer.Exit(1) from exc
    console.print("stopping...")
    platform.stop()
    _stop_servers(distributed)
    console.print("stopped.")


def _wire(platform: Platform, wiring: WiringChoice) -> None:
    from teacher_hiring import operator_client
    from teacher_hiring.runtime.wiring import apply

    urls = {name: platform.deployment.url(name) for name in ("exercises", "hiring")}
    states = apply(
        "before" if wiring is WiringChoice.before else "after",
        urls,
        auth=operator_client.auth(),
    )
    modes = ", ".join(f"{state['link']}={state['mode']}" for state in states)
    console.print(f"wiring {wiring.value}: {modes}")


SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _distributed(deployment: Deployment) -> Deployment:
    """Start Kafka and PostgreSQL with the project's scripts and point the services at them."""
    for script in ("kafka.sh", "postgres.sh"):
        console.print(f"starting {script.removesuffix('.sh')} ({SCRIPTS / script} start)...")
        done = subprocess.run([str(SCRIPTS / script), "start"], check=False)
        if done.returncode != 0:
            console.print(f"[red]{script} start failed with code {done.returncode}[/red]")
            raise typer.Exit(done.returncode)
    pg = "postgresql+psycopg://teacher_hiring@127.0.0.1:5432/th_{}"
    deployment.database_urls = {name: pg.format(name) for name in SERVICES}
    deployment.log_url = "kafka://127.0.0.1:9092"
    deployment.instances = {"hiring": 2, "bonus": 2}
    return deployment


def _stop_servers(distributed: bool) -> None:
    if distributed:
        for script in ("kafka.sh", "postgres.sh"):
            subprocess.run([str(SCRIPTS / script), "stop"], check=False)


def _print_addresses(platform: Platform) -> None:
    table = Table(title="teacher-hiring platform is running (Ctrl-C stops it)")
    table.add_column("service")
    table.add_column("API")
    table.add_column("OpenAPI docs")
    for label, process in platform.processes.items():
        table.add_row(label, process.url, process.url + "/docs")
    console.print(table)
    deployment = platform.deployment
    console.print(f"events: {deployment.event_log_url()}")
    console.print(f"data and logs: {deployment.data_dir.resolve()}")


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
