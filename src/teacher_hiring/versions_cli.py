"""`teacher-hiring event-versions`: see and switch the version of the exercise and manager
events that exercises produces (US-160, US-170), at run time."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from teacher_hiring.operator_client import call, switched
from teacher_hiring.runtime.processes import DEFAULT_PORTS

app = typer.Typer(
    help="The version of the exercise and manager events that exercises produces: see it, "
    "switch it (no restart).",
    no_args_is_help=True,
)
console = Console()

ExercisesUrl = Annotated[str, typer.Option(help="Base URL of exercises")]
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORTS['exercises']}"


def _print(states: list[dict[str, Any]]) -> None:
    table = Table("family", "produces", "can produce", "events", "switched")
    for state in states:
        when = switched(state["switched_at"])
        table.add_row(
            state["family"],
            f"[bold]v{state['version']}[/bold]",
            ", ".join(f"v{v}" for v in state["versions"]),
            ", ".join(state["events"]),
            when,
        )
    console.print(table)


@app.command("show")
def show(exercises_url: ExercisesUrl = DEFAULT_URL) -> None:
    """Which version of each family a save produces now, and whether an operator set it."""
    _print(call("GET", exercises_url.rstrip("/") + "/operator/event-versions"))


@app.command("set")
def set_version(
    family: Annotated[str, typer.Argument(help="exercise or manager")],
    version: Annotated[int, typer.Argument(help="The version to produce from the next save on")],
    exercises_url: ExercisesUrl = DEFAULT_URL,
) -> None:
    """Switch a family; every instance of exercises follows within half a second."""
    url = f"{exercises_url.rstrip('/')}/operator/event-versions/{family}"
    _print([call("PUT", url, json={"version": version})])
