"""`teacher-hiring run`: start the platform and supervise it until Ctrl-C, SIGTERM or SIGHUP.

The supervisor starts every service process (and, in the distributed run, the proxy that gives
each service one address in front of its two instances), starts again any that exits, and
stops them all when it is told to stop, a closed terminal included. If the supervisor itself
dies without stopping them, they stop themselves (runtime.parent_death).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from teacher_hiring.cli.token import platform_auth
from teacher_hiring.runtime.processes import (
    DEFAULT_PORTS,
    DISTRIBUTED_INSTANCES,
    SERVICES,
    WEB,
    Deployment,
    Platform,
    ServiceProcess,
    accepted_keys_json,
)

console = Console()
SCRIPTS = Path(__file__).resolve().parents[3] / "scripts"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
DEFAULT_BASE_PORT = min(DEFAULT_PORTS.values()) - 1


class WiringChoice(StrEnum):
    before = "before"
    after = "after"


def run(
    data_dir: Annotated[
        Path, typer.Option(help="Where databases, the event log and logs go")
    ] = Path("var"),
    host: Annotated[str, typer.Option(help="Listen address of every service")] = "127.0.0.1",
    base_port: Annotated[
        int,
        typer.Option(
            min=1,
            max=65000,
            help="the web pages listen on base, exercises on base+1, hiring on base+2, bonus "
            "on base+3; with --distributed their instances on base+10.. and base+20..",
        ),
    ] = DEFAULT_BASE_PORT,
    partitions: Annotated[int, typer.Option(min=1, help="Partitions per topic")] = 6,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed",
            help="Kafka and PostgreSQL (started by scripts/ unless running), two instances of "
            "every service behind one address each",
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
    """Start the web pages and the three services and keep them running until Ctrl-C (or
    SIGTERM, or SIGHUP).

    By default on the embedded defaults (SQLite and the embedded event log, nothing else to
    install); with --distributed on Apache Kafka and PostgreSQL, as a cluster would run them.
    """
    # One secret for every service: the configured one, else the data folder's, made on the
    # first start (docs/security.md).
    auth = platform_auth(data_dir, create=True)
    deployment = Deployment(
        data_dir=data_dir,
        host=host,
        ports={WEB: base_port, **{name: base_port + 1 + n for n, name in enumerate(SERVICES)}},
        partitions=partitions,
        environment=auth.environment,
        auth_secret=auth.secret,
        auth_accepted_keys=accepted_keys_json(auth),
    )
    started_servers = _distributed(deployment) if distributed else []
    platform = Platform(deployment)
    for signum in STOP_SIGNALS:  # a closed terminal (SIGHUP) stops everything, as Ctrl-C does
        if signal.getsignal(signum) is not signal.SIG_IGN:  # `nohup` asked to live on
            signal.signal(signum, _stop_requested)
    try:
        with console.status("starting the web pages, exercises, hiring and bonus..."):
            platform.start()
        if wiring is not None:
            _wire(platform, wiring)
        _print_addresses(platform)
        while True:
            for label, code in platform.revive():
                console.print(
                    f"[red]{label} exited (code {code}); "
                    f"see {data_dir / 'logs' / (label + '.log')}. Restarting.[/red]"
                )
            time.sleep(0.5)
    except KeyboardInterrupt:
        _shut_down(platform, started_servers)
    except (RuntimeError, TimeoutError) as exc:  # WiringFailed is a RuntimeError
        _say(f"[red]could not start: {exc}[/red] (logs in {data_dir / 'logs'})")
        _shut_down(platform, started_servers)
        raise typer.Exit(1) from exc


def _stop_requested(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _shut_down(platform: Platform, started_servers: list[str]) -> None:
    for signum in STOP_SIGNALS:  # a second Ctrl-C, or the terminal closing, must not cut it short
        signal.signal(signum, signal.SIG_IGN)
    _say("stopping...")
    platform.stop()
    for script in started_servers:
        _script(script, "stop", quiet=True)
    _say("stopped.")


def _say(text: str) -> None:
    """Print, unless the terminal is gone (after SIGHUP writing to it fails)."""
    with contextlib.suppress(OSError):
        console.print(text)


def _wire(platform: Platform, wiring: WiringChoice) -> None:
    from teacher_hiring.cli import operator_client
    from teacher_hiring.runtime.wiring import apply

    urls = {name: platform.deployment.url(name) for name in ("exercises", "hiring")}
    states = apply(
        "before" if wiring is WiringChoice.before else "after",
        urls,
        auth=operator_client.auth(),
    )
    modes = ", ".join(f"{state['link']}={state['mode']}" for state in states)
    console.print(f"wiring {wiring.value}: {modes}")


def _distributed(deployment: Deployment) -> list[str]:
    """Point the services at Kafka and PostgreSQL (the ports of TH_KAFKA_PORT and TH_PG_PORT,
    as the scripts read them), starting each with its script unless it is running already.
    Returns the scripts of the servers it started: those are the ones to stop at the end."""
    started: list[str] = []
    for script in ("kafka.sh", "postgres.sh"):
        if _script(script, "status", quiet=True) == 0:
            console.print(f"{script.removesuffix('.sh')} is running: using it")
            continue
        console.print(f"starting {script.removesuffix('.sh')} ({SCRIPTS / script} start)...")
        code = _script(script, "start")
        if code != 0:
            console.print(f"[red]{script} start failed with code {code}[/red]")
            for done in started:
                _script(done, "stop")
            raise typer.Exit(code)
        started.append(script)
    kafka_port = os.environ.get("TH_KAFKA_PORT", "9092")
    deployment.database_urls = _database_urls()
    deployment.log_url = f"kafka://127.0.0.1:{kafka_port}"
    deployment.kafka_clients = kafka_clients(
        Path(os.environ.get("TH_KAFKA_DIR", "/tmp/teacher-hiring-kafka"))
    )
    # Two web instances too, behind one address: their sessions live in th_web, so a cookie
    # set by one is good at the other.
    deployment.instances = {**DISTRIBUTED_INSTANCES, WEB: 2}
    return started


def _database_urls() -> dict[str, str]:
    """Each service's URL as `postgres.sh start` prints it (idempotent on a running cluster):
    with its role's password and the CA to verify the server, unless the cluster trusts
    loopback (TH_PG_AUTH=trust)."""
    done = subprocess.run(
        [str(SCRIPTS / "postgres.sh"), "start"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        console.print(f"[red]postgres.sh start failed: {done.stderr.strip()[-500:]}[/red]")
        raise typer.Exit(done.returncode)
    printed = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return {name: printed[f"{name.upper()}_DATABASE_URL"] for name in (*SERVICES, WEB)}


def kafka_clients(kafka_dir: Path) -> dict[str, Path]:
    """Each service's client properties, when the broker of `kafka_dir` (scripts/kafka.sh's
    data folder) is secured; none for a plaintext one."""
    try:
        mode = (kafka_dir / "security.mode").read_text(encoding="utf-8").strip()
    except OSError:
        return {}
    if mode != "sasl_ssl":
        return {}
    return {name: kafka_dir / "clients" / f"{name}.properties" for name in SERVICES}


def _script(script: str, command: str, *, quiet: bool = False) -> int:
    # kafka.sh asks the broker for metadata with confluent-kafka: this Python has it.
    env = {"TH_PYTHON": sys.executable, **os.environ}
    done = subprocess.run(
        [str(SCRIPTS / script), command], env=env, check=False, capture_output=quiet
    )
    return done.returncode


def _print_addresses(platform: Platform) -> None:
    deployment = platform.deployment
    console.print(
        f"[bold]Open {deployment.url(WEB)} in a browser[/bold]: the pages of candidates, "
        "managers and operators."
    )
    table = Table(title="teacher-hiring platform is running (Ctrl-C stops it)")
    table.add_column("process")
    table.add_column("address (a service's OpenAPI page: /docs)")
    if platform.proxy is not None:
        table.add_column("instances behind it")
    for name in (WEB, *SERVICES):
        row = [name if name != WEB else "web pages", deployment.url(name)]
        if platform.proxy is not None:
            ports = [str(p.deployment.port(name, p.instance)) for p in _instances(platform, name)]
            row.append("ports " + ", ".join(ports))
        table.add_row(*row)
    console.print(table)
    console.print(f"events: {deployment.event_log_url()}")
    console.print(f"data and logs: {deployment.data_dir.resolve()}")


def _instances(platform: Platform, service: str) -> list[ServiceProcess]:
    return [process for process in platform.processes.values() if process.name == service]
