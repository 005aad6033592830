"""`teacher-hiring event-versions`: see and switch, at run time, the version of each event family
a service produces: exercises' `exercise` and `manager` (US-160, US-170), hiring's `leak`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from teacher_hiring.cli.operator_client import call, err, switched
from teacher_hiring.exercises.service_layer.events import FAMILIES as EXERCISES_FAMILIES
from teacher_hiring.hiring.service_layer.events import FAMILIES as HIRING_FAMILIES
from teacher_hiring.runtime.settings import DEFAULT_URLS

if TYPE_CHECKING:  # what the services answer; the module itself is not needed to read it
    from teacher_hiring.runtime.event_versions import FamilyState

app = typer.Typer(
    help="The version of each event family a service produces (exercise and manager on "
    "exercises, leak on hiring): see it, switch it (no restart).",
    no_args_is_help=True,
)
console = Console()

PRODUCER = {
    **dict.fromkeys(EXERCISES_FAMILIES, "exercises"),
    **dict.fromkeys(HIRING_FAMILIES, "hiring"),
}
"""Which service produces each family, and so holds its flag."""

ExercisesUrl = Annotated[str, typer.Option(help="Base URL of exercises")]
HiringUrl = Annotated[str, typer.Option(help="Base URL of hiring")]
DEFAULT_EXERCISES_URL = DEFAULT_URLS["exercises"]
DEFAULT_HIRING_URL = DEFAULT_URLS["hiring"]


def _print(states: list[tuple[str, FamilyState]]) -> None:
    table = Table("family", "service", "produces", "can produce", "events", "switched")
    for service, state in states:
        table.add_row(
            state["family"],
            service,
            f"[bold]v{state['version']}[/bold]",
            ", ".join(f"v{v}" for v in state["versions"]),
            ", ".join(state["events"]),
            switched(state["switched_at"]),
        )
    console.print(table)


@app.command("show")
def show(
    exercises_url: ExercisesUrl = DEFAULT_EXERCISES_URL,
    hiring_url: HiringUrl = DEFAULT_HIRING_URL,
) -> None:
    """Which version of each family a command produces now, and whether an operator set it.

    A service that does not answer is named and left out; exits 1 only if none answers.
    """
    states: list[tuple[str, FamilyState]] = []
    for service, url in (("exercises", exercises_url), ("hiring", hiring_url)):
        try:
            answer = call("GET", url.rstrip("/") + "/operator/event-versions")
        except typer.Exit:  # the call printed why
            continue
        states += [(service, state) for state in answer]
    if not states:
        raise typer.Exit(1)
    _print(states)


@app.command("set")
def set_version(
    family: Annotated[str, typer.Argument(help="exercise or manager (exercises), leak (hiring)")],
    version: Annotated[int, typer.Argument(help="The version to produce from the next command on")],
    exercises_url: ExercisesUrl = DEFAULT_EXERCISES_URL,
    hiring_url: HiringUrl = DEFAULT_HIRING_URL,
) -> None:
    """Switch a family on the service producing it; every instance follows within half a
    second."""
    service = PRODUCER.get(family)
    if service is None:
        err.print(f"[red]family: {family!r} is not an event family ({', '.join(PRODUCER)})[/red]")
        raise typer.Exit(1)
    base = exercises_url if service == "exercises" else hiring_url
    url = f"{base.rstrip('/')}/operator/event-versions/{family}"
    _print([(service, call("PUT", url, json={"version": version}))])
