"""What the bonus service is asked to do, one record per consumed event (imperative names)."""

from __future__ import annotations

from dataclasses import dataclass

from teacher_hiring.bonus.domain.rating import Rating


@dataclass(frozen=True, slots=True)
class SubmissionMoney:
    """What a bonus and a fine both say: the exercise's author, the money, and the submission
    (the candidate's completion of the exercise) it is for."""

    manager_id: str
    amount_cents: int
    submission_id: str
    candidate_id: str
    exercise_id: str
    exercise_version: int
    completion_number: int


@dataclass(frozen=True, slots=True)
class CreditBonus(SubmissionMoney):
    """From BonusAdded: credit the author of a solved exercise (completions 1 to 10)."""

    rating: int
    rating_version: int
    occurred_at: str


@dataclass(frozen=True, slots=True)
class DebitFine(SubmissionMoney):
    """From FineAdded: debit the author of a leaked exercise (completion 11 and later)."""

    reason: str
    occurred_at: str


@dataclass(frozen=True, slots=True)
class CreditPayment:
    """From PaymentCommited: pay the manager who complicated a leaked exercise."""

    manager_id: str
    amount_cents: int
    assignment_id: str
    exercise_id: str
    exercise_version: int
    occurred_at: str


MoneyCommand = CreditBonus | DebitFine | CreditPayment


@dataclass(frozen=True, slots=True)
class RecordRating(Rating):
    """From TaskRatingChanged: remember this rating, unless the one kept is as new."""


@dataclass(frozen=True, slots=True)
class ReplicateManager:
    """From ManagerCreated/ManagerUpdated v1: keep the replica and open the account.

    `as_of` is when exercises produced the event: the replica never moves back to older data.
    """

    manager_id: str
    first_name: str
    last_name: str
    team: str | None
    email: str
    as_of: str
