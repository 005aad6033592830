"""`teacher-hiring chaos`: start a platform of its own, break it while simulated users work,
check that nothing was lost or doubled, print the figures; exit 1 on any violation."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from teacher_hiring.cli.token import platform_auth

if TYPE_CHECKING:
    from teacher_hiring.chaos.stand import Stand

console = Console()


class DeploymentChoice(StrEnum):
    embedded = "embedded"
    distributed = "distributed"


Interval = Annotated[
    float, typer.Option(min=0, help="Mean seconds between faults of this kind; 0: never")
]


def chaos(
    deployment: Annotated[
        DeploymentChoice,
        typer.Option(
            help="embedded: SQLite and the embedded log; distributed: PostgreSQL and a Kafka "
            "broker of the run's own, two instances of every service behind one address each"
        ),
    ] = DeploymentChoice.embedded,
    seconds: Annotated[float, typer.Option(min=1, help="How long the faults go on")] = 60.0,
    seed: Annotated[int, typer.Option(help="Fixes the faults and the users' choices")] = 1,
    kill_interval: Interval = 5.0,
    duplicate_interval: Interval = 2.0,
    poison_interval: Interval = 3.0,
    outage_interval: Interval = 6.0,
    broker_kill_interval: Annotated[
        float,
        typer.Option(min=0, help="Mean seconds between kills of the Kafka broker (distributed)"),
    ] = 60.0,
    concurrency: Annotated[int, typer.Option(min=1, help="Candidates working at once")] = 4,
    settle_timeout: Annotated[
        float, typer.Option(min=1, help="Seconds the checks may wait for the platform to settle")
    ] = 180.0,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Databases, logs and broker of the run (default var/chaos/<when>)"),
    ] = None,
    postgres_port: Annotated[
        int, typer.Option(help="PostgreSQL of scripts/postgres.sh (distributed)")
    ] = 5432,
) -> None:
    """Kill processes, deliver events twice and late, feed poison, take databases away, while
    candidates and managers work; then check every answer and every cent (docs/chaos.md)."""
    # Imported here: the CLI (and every service, started through it) should not pay for them.
    from teacher_hiring.chaos import stand
    from teacher_hiring.chaos.report import print_report
    from teacher_hiring.chaos.run import ChaosConfig, ChaosRun

    config = ChaosConfig(
        seconds=seconds,
        seed=seed,
        kill_interval_s=kill_interval,
        duplicate_interval_s=duplicate_interval,
        poison_interval_s=poison_interval,
        outage_interval_s=outage_interval,
        broker_kill_interval_s=broker_kill_interval,
        concurrency=concurrency,
        settle_timeout_s=settle_timeout,
    )
    folder = data_dir or Path("var") / "chaos" / f"{time.strftime('%Y%m%d-%H%M%S')}-{seed}"
    auth = platform_auth(folder, create=True)
    where = stand.deployment_for(
        folder / deployment.value, environment=auth.environment, auth_secret=auth.secret
    )
    opened: AbstractContextManager[Stand] = (
        stand.embedded(where)
        if deployment is DeploymentChoice.embedded
        else stand.distributed(where, postgres_port=postgres_port)
    )
    console.print(f"chaos on {deployment.value}: data and logs in {where.data_dir.resolve()}")
    try:
        # The Kafka client library logs every refused connection to stderr while the broker is
        # away: into the run's folder, not over the tables.
        with _stderr_to(where.data_dir / "logs" / "chaos-stderr.log"), opened as up:
            run = ChaosRun(
                up.platform, config, deployment=deployment.value, broker=up.broker, console=console
            )
            report = run.run()
    except (RuntimeError, TimeoutError) as exc:
        console.print(f"[red]the platform could not be started: {exc}[/red] (logs in {folder})")
        raise typer.Exit(2) from exc
    (where.data_dir / "faults.log").write_text("\n".join(report.injected.log) + "\n")
    print_report(report, console)
    console.print(f"each fault as it was made: {where.data_dir / 'faults.log'}")
    if not report.ok:
        raise typer.Exit(1)


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = os.dup(2)
    with path.open("ab") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
