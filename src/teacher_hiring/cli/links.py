"""`teacher-hiring links`: see and switch the links whose form can change at run time."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from teacher_hiring.cli import operator_client
from teacher_hiring.cli.operator_client import call, err, switched
from teacher_hiring.runtime.settings import DEFAULT_URLS
from teacher_hiring.runtime.wiring import (
    OWNERS,
    PRESETS,
    OwnedLinkState,
    Wiring,
    WiringFailed,
    apply,
    owned,
)

app = typer.Typer(
    help="Links whose form changes at run time: see their modes, switch one (no restart).",
    no_args_is_help=True,
)
console = Console()

ExercisesUrl = Annotated[str, typer.Option(help="Base URL of exercises")]
HiringUrl = Annotated[str, typer.Option(help="Base URL of hiring")]


def _print(states: list[OwnedLinkState]) -> None:
    table = Table("link", "mode", "modes", "event", "from", "to", "switched")
    for state in states:
        when = switched(state["switched_at"])
        table.add_row(
            state["link"],
            f"[bold]{state['mode']}[/bold]",
            " | ".join(state["modes"]),
            ", ".join(state["events"]) or "(a read)",
            state["owner"],
            state["receiver"],
            when,
        )
    console.print(table)


def _one_of(name: str, value: str, choices: Collection[str]) -> None:
    """Exit 2, naming the argument and what it may be, unless `value` is one of `choices`."""
    if value not in choices:
        err.print(f"[red]{name}: {value!r} is not one of {', '.join(choices)}[/red]")
        raise typer.Exit(2)


@app.command("list")
def list_links(
    exercises_url: ExercisesUrl = DEFAULT_URLS["exercises"],
    hiring_url: HiringUrl = DEFAULT_URLS["hiring"],
) -> None:
    """Every switchable link, its mode, and whether an operator set it."""
    urls = {"exercises": exercises_url, "hiring": hiring_url}
    states = [
        owned(state, owner)
        for owner, url in urls.items()
        for state in call("GET", url.rstrip("/") + "/operator/links")
    ]
    _print(states)


@app.command("set")
def set_link(
    link: Annotated[str, typer.Argument(help=f"One of: {', '.join(OWNERS)}")],
    mode: Annotated[
        str,
        typer.Argument(
            help="exercise-updates: push|event; answer-check: sync|replica; complication, "
            "bonus-credit, fine-debit, payment: sync|event"
        ),
    ],
    exercises_url: ExercisesUrl = DEFAULT_URLS["exercises"],
    hiring_url: HiringUrl = DEFAULT_URLS["hiring"],
) -> None:
    """Switch a link; every instance of its producer follows within half a second."""
    _one_of("link", link, OWNERS)
    owner = OWNERS[link]
    url = {"exercises": exercises_url, "hiring": hiring_url}[owner]
    state = call("PUT", f"{url.rstrip('/')}/operator/links/{link}", json={"mode": mode})
    _print([owned(state, owner)])


@app.command("preset")
def preset(
    wiring: Annotated[
        str, typer.Argument(help="before: every link in its old, synchronous form; after: the new")
    ],
    exercises_url: ExercisesUrl = DEFAULT_URLS["exercises"],
    hiring_url: HiringUrl = DEFAULT_URLS["hiring"],
) -> None:
    """Switch every link at once to the old wiring (before) or to this system's (after)."""
    _one_of("wiring", wiring, PRESETS)
    chosen: Wiring = "before" if wiring == "before" else "after"
    try:
        states = apply(
            chosen, {"exercises": exercises_url, "hiring": hiring_url}, auth=operator_client.auth()
        )
    except WiringFailed as exc:
        if exc.switched:
            _print(exc.switched)
        err.print(f"[red]{exc}; the links above were switched, the others were not[/red]")
        raise typer.Exit(1) from exc
    _print(states)
