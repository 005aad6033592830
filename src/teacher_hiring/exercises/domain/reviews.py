"""Complication payments held for an operator's review (docs/security.md, issue 15).

A manager is not paid silently for complicating an exercise whose leaked completions came
mostly from their own candidates: those they registered (hiring's `registered_by`) or who
registered from an address the manager's own requests came from (the same origin). Such a
payment waits in the review queue; an operator approves it (it is paid then, once) or rejects
it (never paid; the reason is kept). Pure rules, tested without I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from teacher_hiring.exercises.domain.errors import ExercisesError, InvalidValue

ReviewStatus = Literal["pending", "approved", "rejected"]
REASON_MAX = 2000


@dataclass(frozen=True)
class Completion:
    """One candidate whose completion of the leaked version counted, as hiring reported it."""

    candidate_id: str
    registered_by: str | None = None
    origin: str | None = None

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> Completion:
        return cls(
            candidate_id=str(item["candidate_id"]),
            registered_by=item.get("registered_by"),
            origin=item.get("origin"),
        )


@dataclass(frozen=True)
class PaymentEvidence:
    """How many of the counted completions were the assignee's own, and why."""

    completions: int
    own_completions: int
    registered_by_manager: int
    same_origin: int

    @property
    def held(self) -> bool:
        """More than half of the completions were the assignee's own: an operator decides."""
        return self.completions > 0 and 2 * self.own_completions > self.completions


def payment_evidence(
    completed_by: Iterable[Completion], assignee_id: str, assignee_origins: Collection[str]
) -> PaymentEvidence:
    """Count the completions whose candidate the assignee registered, or who registered from
    one of the assignee's origins (a candidate may be both: counted once as their own).

    A report without evidence (none: a report made before v2) holds nothing.
    """
    completions = own = registered = same = 0
    for completion in completed_by:
        completions += 1
        by_them = completion.registered_by == assignee_id
        shared = completion.origin is not None and completion.origin in assignee_origins
        registered += by_them
        same += shared
        own += by_them or shared
    return PaymentEvidence(completions, own, registered, same)


class ReviewAlreadyDecided(ExercisesError):
    """The other decision was taken already (409): an approved payment cannot be rejected,
    nor a rejected one approved."""

    def __init__(self, review_id: str, status: str) -> None:
        super().__init__(
            f"review_id: payment review {review_id} is {status} already", field="review_id"
        )


@dataclass(frozen=True)
class PaymentReview:
    """A held complication payment and what became of it."""

    id: str
    assignment_id: str
    manager_id: str
    amount_cents: int
    exercise_id: str
    exercise_version: int
    completions: int
    own_completions: int
    registered_by_manager: int
    same_origin: int
    status: ReviewStatus = "pending"
    held_at: float = 0.0
    decided_at: float | None = None
    decided_by: str | None = None
    reason: str | None = None
    payment_id: str | None = None

    def decided(
        self, status: ReviewStatus, by: str, at: float, reason: str | None = None
    ) -> PaymentReview | None:
        """The review with the operator's decision, or None if this same decision was taken
        already (the same answer again: approving twice pays once). The other decision taken
        already is ReviewAlreadyDecided."""
        if self.status == status:
            return None
        if self.status != "pending":
            raise ReviewAlreadyDecided(self.id, self.status)
        reason = (reason or "").strip()
        if status == "rejected" and not reason:
            raise InvalidValue("reason", "say why the payment is rejected")
        if len(reason) > REASON_MAX:
            raise InvalidValue("reason", f"must be at most {REASON_MAX} characters")
        return replace(self, status=status, decided_at=at, decided_by=by, reason=reason or None)
