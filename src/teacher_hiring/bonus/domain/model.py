"""Ledger entries, ratings and managers as the bonus service understands them.

Money is integer cents, always: a float is refused, never rounded. An entry's amount is signed
(a fine is negative) so that a balance is a plain sum over the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from teacher_hiring.bonus.domain.commands import (
    CreditBonus,
    CreditPayment,
    DebitFine,
    MoneyCommand,
    SubmissionMoney,
)
from teacher_hiring.bonus.domain.errors import InvalidAmount, InvalidTimestamp
from teacher_hiring.foundation.time import is_rfc3339_utc, parse_rfc3339, rfc3339


class EntryKind(StrEnum):
    BONUS = "bonus"
    FINE = "fine"
    PAYMENT = "payment"


@dataclass(frozen=True, slots=True)
class EventSource:
    """The event an entry came from, so every cent can be traced back to its cause."""

    event_id: str
    event_name: str
    producer: str
    trace_id: str


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    manager_id: str
    kind: EntryKind
    amount_cents: int
    business_key: str
    occurred_at: str
    source: EventSource
    details: dict[str, Any] = field(hash=False)

    def has_same_effect(self, manager_id: str, amount_cents: int) -> bool:
        """True when a stored entry with this business key is this very entry again."""
        return self.manager_id == manager_id and self.amount_cents == amount_cents


@dataclass(frozen=True, slots=True)
class RecordedEntry(LedgerEntry):
    """An entry as the ledger holds it: with its position (higher was recorded later) and when
    bonus wrote it."""

    id: int
    recorded_at: str


def ledger_entry(command: MoneyCommand, source: EventSource) -> LedgerEntry:
    """The one entry a money event becomes: its kind, signed amount and business key.

    Business keys: one bonus and at most one fine per submission, one payment per assignment.
    """
    occurred_at = utc_timestamp(command.occurred_at, "occurred_at")
    kind, amount_cents, business_key, details = _booking(command)
    return LedgerEntry(
        manager_id=command.manager_id,
        kind=kind,
        amount_cents=amount_cents,
        business_key=business_key,
        occurred_at=occurred_at,
        source=source,
        details=details,
    )


def _booking(command: MoneyCommand) -> tuple[EntryKind, int, str, dict[str, Any]]:
    """What the command books: the entry's kind, signed amount, business key and details."""
    match command:
        case CreditBonus():
            details = _submission_details(command)
            details.update(rating=command.rating, rating_version=command.rating_version)
            cents = whole_cents(command.amount_cents, minimum=0)
            return EntryKind.BONUS, cents, f"bonus:{command.submission_id}", details
        case DebitFine():
            details = _submission_details(command)
            details.update(reason=command.reason)
            cents = -whole_cents(command.amount_cents, minimum=1)
            return EntryKind.FINE, cents, f"fine:{command.submission_id}", details
        case CreditPayment():
            details = {
                "assignment_id": command.assignment_id,
                "exercise_id": command.exercise_id,
                "exercise_version": command.exercise_version,
            }
            cents = whole_cents(command.amount_cents, minimum=1)
            return EntryKind.PAYMENT, cents, f"payment:{command.assignment_id}", details


def _submission_details(command: SubmissionMoney) -> dict[str, Any]:
    """The details a submission's money event shares, bonus or fine."""
    return {
        "submission_id": command.submission_id,
        "candidate_id": command.candidate_id,
        "exercise_id": command.exercise_id,
        "exercise_version": command.exercise_version,
        "completion_number": command.completion_number,
    }


def whole_cents(value: object, *, minimum: int) -> int:
    """The amount as an int, refusing floats (even 1400.0), booleans and too small values."""
    if type(value) is not int:
        raise InvalidAmount(
            f"amount_cents: must be a whole number of cents, got {value!r}",
            field="amount_cents",
        )
    if value < minimum:
        raise InvalidAmount(
            f"amount_cents: must be at least {minimum}, got {value}", field="amount_cents"
        )
    return value


def utc_timestamp(value: str, field_name: str) -> str:
    """RFC 3339 normalised to UTC with microseconds, so that text order is time order."""
    if is_rfc3339_utc(value):
        return value  # already so (as every producer writes its times): nothing to redo
    try:
        moment = parse_rfc3339(value)
    except ValueError:
        raise InvalidTimestamp(
            f"{field_name}: not an RFC 3339 timestamp: {value!r}", field=field_name
        ) from None
    if moment.tzinfo is None:
        raise InvalidTimestamp(f"{field_name}: has no UTC offset: {value!r}", field=field_name)
    return rfc3339(moment)


@dataclass(frozen=True, slots=True)
class Manager:
    """Who owns an account, as far as bonus knows (replica, or exercises over COMM-070)."""

    first_name: str
    last_name: str
    email: str
    team: str | None = None

    @property
    def name(self) -> str:
        """For display: "First Last", or the first name alone."""
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name
