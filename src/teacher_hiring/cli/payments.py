"""`teacher-hiring payments`: the review queue of complication payments (docs/security.md,
"Payments held for review"): list the held payments, approve one (it is paid then, once) or
reject it with a reason (never paid). exercises answers under `/operator/payment-reviews`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from teacher_hiring.cli.operator_client import call
from teacher_hiring.runtime.settings import DEFAULT_URLS

app = typer.Typer(
    help="Complication payments held for review: list them, approve or reject one.",
    no_args_is_help=True,
)
console = Console(width=160, emoji=False)

PATH = "/operator/payment-reviews"
ExercisesUrl = Annotated[str, typer.Option(help="Base URL of exercises")]


class Status(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    all = "all"


def _url(exercises_url: str, *parts: str) -> str:
    return exercises_url.rstrip("/") + "/".join([PATH, *(quote(p, safe="") for p in parts)])


def _cents(amount: int) -> str:
    return f"{amount // 100}.{amount % 100:02d}"


def _say(review: dict[str, Any]) -> None:
    decided = ""
    if review["decided_by"]:
        decided = f" by {review['decided_by']} at {review['decided_at']}"
    reason = f": {review['reason']}" if review["reason"] else ""
    console.print(
        f"review {review['id']}: {review['status']}{decided}{escape(reason)}; "
        f"{_cents(review['amount_cents'])} to {escape(review['manager_name'])} "
        f"({review['manager_id']})"
        + (f", payment {review['payment_id']}" if review["payment_id"] else "")
    )


@app.command("reviews")
def reviews(
    status: Annotated[Status, typer.Option(help="Which reviews to list")] = Status.pending,
    exercises_url: ExercisesUrl = DEFAULT_URLS["exercises"],
) -> None:
    """The held payments, oldest first, with how many of the leak's completions were the
    assignee's own (registered by them, or from their address)."""
    params = {} if status is Status.all else {"status": status.value}
    found = call("GET", _url(exercises_url), params=params)
    if not found:
        console.print(f"no {'' if status is Status.all else status.value + ' '}payment reviews")
        return
    table = Table("review", "status", "manager", "amount", "exercise", "own / completions")
    for review in found:
        table.add_row(
            review["id"],
            review["status"],
            escape(review["manager_name"]),
            _cents(review["amount_cents"]),
            f"{escape(review['exercise_title'])} v{review['exercise_version']}",
            f"{review['own_completions']} / {review['completions']} "
            f"(registered {review['registered_by_manager']}, same address "
            f"{review['same_origin']})",
        )
    console.print(table)


@app.command("approve")
def approve(
    review_id: Annotated[str, typer.Argument(help="The review's id")],
    reason: Annotated[str | None, typer.Option(help="A note kept with the decision")] = None,
    exercises_url: ExercisesUrl = DEFAULT_URLS["exercises"],
) -> None:
    """Pay the held payment (PaymentCommited, once: approving again pays nothing more)."""
    body = {} if reason is None else {"reason": reason}
    _say(call("POST", _url(exercises_url, review_id, "approve"), json=body))


@app.command("reject")
def reject(
    review_id: Annotated[str, typer.Argument(help="The review's id")],
    reason: Annotated[str, typer.Option(help="Why it is not paid (kept with the review)")],
    exercises_url: ExercisesUrl = DEFAULT_URLS["exercises"],
) -> None:
    """Never pay the held payment; the assignment stays closed and the reason is kept."""
    _say(call("POST", _url(exercises_url, review_id, "reject"), json={"reason": reason}))
