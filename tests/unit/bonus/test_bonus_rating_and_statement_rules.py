"""The newer rating wins; a statement adds up: opening + credits - debits = closing."""

from __future__ import annotations

from datetime import date

import pytest

from teacher_hiring.bonus.domain.errors import InvalidPeriod
from teacher_hiring.bonus.domain.model import EntryKind
from teacher_hiring.bonus.domain.rating import newer_rating_wins
from teacher_hiring.bonus.domain.statement import Period, statement, totals


def test_the_first_rating_of_an_exercise_is_applied() -> None:
    assert newer_rating_wins(None, 1)


def test_a_newer_rating_version_is_applied() -> None:
    assert newer_rating_wins(2, 3)


def test_an_older_rating_version_is_ignored() -> None:
    assert not newer_rating_wins(3, 2)


def test_an_equal_rating_version_is_ignored() -> None:
    assert not newer_rating_wins(3, 3)


def test_a_statement_closes_at_opening_plus_credits_minus_debits() -> None:
    period = Period.parse("2025-03-01", "2025-04-01")
    lines = [(EntryKind.BONUS, 1400), (EntryKind.FINE, -500), (EntryKind.PAYMENT, 3000)]

    result = statement(period, -200, lines)

    assert result.totals.credits_cents == 4400
    assert result.totals.debits_cents == 500
    assert result.closing_balance_cents == -200 + 4400 - 500
    assert result.closing_balance_cents == -200 + sum(amount for _, amount in lines)


def test_totals_count_and_sum_each_kind_with_fines_as_positive_amounts() -> None:
    result = totals([("bonus", 1000), ("bonus", 1100), ("fine", -500), ("fine", -500)])

    assert (result.bonus_cents, result.bonus_count) == (2100, 2)
    assert (result.fine_cents, result.fine_count) == (1000, 2)
    assert (result.payment_cents, result.payment_count) == (0, 0)
    assert result.net_cents == 1100


def test_an_empty_period_closes_at_its_opening_balance() -> None:
    result = statement(Period.parse("2025-03-01", "2025-03-02"), 700, [])
    assert result.closing_balance_cents == 700


def test_a_period_runs_from_start_midnight_utc_to_end_midnight_excluded() -> None:
    period = Period.parse("2025-03-01", "2025-04-01")

    assert (period.start, period.end) == (date(2025, 3, 1), date(2025, 4, 1))
    assert period.starts_at == "2025-03-01T00:00:00.000000Z"
    assert period.ends_at == "2025-04-01T00:00:00.000000Z"


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2025-03-01", "2025-03-01", "end"),
        ("2025-04-01", "2025-03-01", "end"),
        ("2025-03-1", "2025-04-01", "start"),
        ("2025-03-01", "2025-13-01", "end"),
        ("20250301", "2025-04-01", "start"),
    ],
)
def test_a_malformed_or_empty_period_is_refused_naming_the_field(
    start: str, end: str, field: str
) -> None:
    with pytest.raises(InvalidPeriod) as raised:
        Period.parse(start, end)
    assert raised.value.extra["field"] == field
    assert str(raised.value).startswith(f"{field}:")
