"""What the bonus service is asked to do, one record per consumed event (imperative names)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CreditBonus:
    """From BonusAdded: credit the author of a solved exercise (completions 1 to 10)."""

    manager_id: str
    amount_cents: int
    submission_id: str
    candidate_id: str
    exercise_id: str
    exercise_version: int
    completion_number: int
    rating: int
    rating_version: int
    occurred_at: str


@dataclass(frozen=True, slots=True)
class DebitFine:
    """From FineAdded: debit the author of a leaked exercise (completion 11 and later)."""

    manager_id: str
    amount_cents: int
    submission_id: str
    candidate_id: str
    exercise_id: str
    exercise_version: int
    completion_number: int
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
class RecordRating:
    """From TaskRatingChanged: remember the newest rating of an exercise."""

    exercise_id: str
    exercise_version: int
    rating: int
    rating_version: int
    attempted_candidates: int
    failed_first_attempts: int
    changed_at: str


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
