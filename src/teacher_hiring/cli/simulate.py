"""`teacher-hiring simulate`: simulated users (teacher_hiring.simulation) on a running platform."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from teacher_hiring.runtime.settings import DEFAULT_URLS

console = Console()


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
    exercises_url: str = DEFAULT_URLS["exercises"],
    hiring_url: str = DEFAULT_URLS["hiring"],
    bonus_url: str = DEFAULT_URLS["bonus"],
) -> None:
    """Managers write exercises, candidates solve them, managers complicate leaked ones.

    Ends with a summary and a check that the bonus ledger holds exactly what hiring and
    exercises issued; exits non-zero if it does not.
    """
    from teacher_hiring.cli import operator_client
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
