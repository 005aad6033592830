"""A statement of one account over a period: opening + credits - debits = closing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from teacher_hiring.bonus.domain.errors import InvalidPeriod
from teacher_hiring.bonus.domain.model import EntryKind
from teacher_hiring.foundation.time import rfc3339


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in whole UTC days."""

    start: date
    end: date

    @classmethod
    def parse(cls, start: str, end: str) -> Period:
        period = cls(_day(start, "start"), _day(end, "end"))
        if period.end <= period.start:
            raise InvalidPeriod(f"end: must be after start ({start}), got {end}", field="end")
        return period

    @property
    def starts_at(self) -> str:
        return _midnight(self.start)

    @property
    def ends_at(self) -> str:
        return _midnight(self.end)


def _day(value: str, field_name: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidPeriod(
            f"{field_name}: must be a date YYYY-MM-DD, got {value!r}", field=field_name
        ) from None


def _midnight(day: date) -> str:
    return rfc3339(datetime(day.year, day.month, day.day, tzinfo=UTC))


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums per kind; fines are reported as the positive amounts that were fined."""

    bonus_cents: int = 0
    bonus_count: int = 0
    fine_cents: int = 0
    fine_count: int = 0
    payment_cents: int = 0
    payment_count: int = 0

    @property
    def credits_cents(self) -> int:
        return self.bonus_cents + self.payment_cents

    @property
    def debits_cents(self) -> int:
        return self.fine_cents

    @property
    def net_cents(self) -> int:
        return self.credits_cents - self.debits_cents


def totals(lines: Iterable[tuple[EntryKind | str, int]]) -> Totals:
    """Totals of (kind, signed amount) pairs."""
    cents = dict.fromkeys(EntryKind, 0)
    counts = dict.fromkeys(EntryKind, 0)
    for kind, amount_cents in lines:
        cents[EntryKind(kind)] += abs(amount_cents)
        counts[EntryKind(kind)] += 1
    return Totals(
        bonus_cents=cents[EntryKind.BONUS],
        bonus_count=counts[EntryKind.BONUS],
        fine_cents=cents[EntryKind.FINE],
        fine_count=counts[EntryKind.FINE],
        payment_cents=cents[EntryKind.PAYMENT],
        payment_count=counts[EntryKind.PAYMENT],
    )


@dataclass(frozen=True, slots=True)
class Statement:
    period: Period
    opening_balance_cents: int
    totals: Totals

    @property
    def closing_balance_cents(self) -> int:
        return self.opening_balance_cents + self.totals.credits_cents - self.totals.debits_cents


def statement(
    period: Period, opening_balance_cents: int, lines: Iterable[tuple[EntryKind | str, int]]
) -> Statement:
    return Statement(period, opening_balance_cents, totals(lines))
