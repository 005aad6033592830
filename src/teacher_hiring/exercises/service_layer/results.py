"""What exercises's handlers give back: small immutable records the HTTP layer answers with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from teacher_hiring.exercises.domain.model import Exercise, Payment
from teacher_hiring.exercises.domain.reviews import PaymentReview


@dataclass(frozen=True, slots=True)
class ExerciseCreation:
    """A new exercise, with the id of its ExerciseCreated (what a push in push mode waits for)."""

    exercise: Exercise
    created_event_id: str


@dataclass(frozen=True, slots=True)
class ExerciseSaved:
    """A new version saved: its ExerciseUpdated, and the assignments it closed and paid."""

    exercise: Exercise
    updated_event_id: str
    closed_assignment_ids: tuple[str, ...]
    payments: tuple[Payment, ...]
    held: tuple[PaymentReview, ...] = ()
    """Payments of closed assignments held for an operator's review, not paid."""


@dataclass(frozen=True, slots=True)
class ComplicationOutcome:
    """What a leak report did: opened an assignment, found it already open, or was stale."""

    assignment_id: str | None
    outcome: Literal["opened", "duplicate", "stale"]

    @property
    def created(self) -> bool:
        return self.outcome == "opened"


@dataclass(frozen=True, slots=True)
class PaymentDecision:
    """A review as it stands after a decision, and the payment that decision made (None when
    it made none: a rejection, or the same decision taken before)."""

    review: PaymentReview
    payment: Payment | None
