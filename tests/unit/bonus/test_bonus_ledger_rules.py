"""Which ledger entry a money event becomes: kind, signed amount, business key, source."""

from __future__ import annotations

import pytest

from teacher_hiring.bonus.domain.commands import CreditBonus, CreditPayment, DebitFine
from teacher_hiring.bonus.domain.errors import InvalidAmount, InvalidTimestamp
from teacher_hiring.bonus.domain.model import EntryKind, EventSource, ledger_entry

SOURCE = EventSource("ev-1", "BonusAdded", "hiring", "trace-1")
AT = "2025-03-14T09:26:53.589793Z"


def credit_bonus(amount_cents: object = 1400, occurred_at: str = AT) -> CreditBonus:
    return CreditBonus("anna", amount_cents, "sub-1", "cand-1", "ex-1", 1, 3, 40, 2, occurred_at)  # type: ignore[arg-type]


def debit_fine(amount_cents: object = 500) -> DebitFine:
    return DebitFine("anna", amount_cents, "sub-2", "cand-2", "ex-1", 1, 11, "leaked", AT)  # type: ignore[arg-type]


def credit_payment(amount_cents: object = 3000) -> CreditPayment:
    return CreditPayment("anna", amount_cents, "asg-1", "ex-1", 2, AT)  # type: ignore[arg-type]


def test_a_bonus_is_a_credit_keyed_by_its_submission() -> None:
    entry = ledger_entry(credit_bonus(1400), SOURCE)

    assert (entry.kind, entry.amount_cents, entry.business_key) == (
        EntryKind.BONUS,
        1400,
        "bonus:sub-1",
    )
    assert entry.details["rating"] == 40
    assert entry.details["rating_version"] == 2


def test_a_fine_is_a_debit_keyed_by_its_submission() -> None:
    entry = ledger_entry(debit_fine(500), SOURCE)

    assert (entry.kind, entry.amount_cents, entry.business_key) == (
        EntryKind.FINE,
        -500,
        "fine:sub-2",
    )
    assert entry.details["reason"] == "leaked"


def test_a_payment_is_a_credit_keyed_by_its_assignment() -> None:
    entry = ledger_entry(credit_payment(3000), SOURCE)

    assert (entry.kind, entry.amount_cents, entry.business_key) == (
        EntryKind.PAYMENT,
        3000,
        "payment:asg-1",
    )


def test_a_bonus_and_a_fine_of_the_same_submission_have_different_keys() -> None:
    bonus = ledger_entry(CreditBonus("a", 1, "s", "c", "e", 1, 3, 0, 0, AT), SOURCE)
    fine = ledger_entry(DebitFine("a", 1, "s", "c", "e", 1, 11, "r", AT), SOURCE)

    assert bonus.business_key != fine.business_key


def test_an_entry_names_its_source_event() -> None:
    assert ledger_entry(credit_payment(), SOURCE).source == SOURCE


@pytest.mark.parametrize("amount", [1400.0, 14.5, True, "1400", None])
def test_an_amount_that_is_not_whole_cents_is_refused_never_rounded(amount: object) -> None:
    with pytest.raises(InvalidAmount, match="amount_cents"):
        ledger_entry(credit_bonus(amount), SOURCE)


def test_a_zero_bonus_is_an_entry_but_a_negative_one_is_refused() -> None:
    assert ledger_entry(credit_bonus(0), SOURCE).amount_cents == 0
    with pytest.raises(InvalidAmount):
        ledger_entry(credit_bonus(-1), SOURCE)


@pytest.mark.parametrize("make", [debit_fine, credit_payment])
def test_a_fine_or_payment_must_be_at_least_one_cent(make: object) -> None:
    with pytest.raises(InvalidAmount):
        ledger_entry(make(0), SOURCE)  # type: ignore[operator]


def test_occurred_at_is_normalised_to_utc_microseconds_so_text_order_is_time_order() -> None:
    assert ledger_entry(
        credit_bonus(occurred_at="2025-03-14T12:00:00+03:00"), SOURCE
    ).occurred_at == ("2025-03-14T09:00:00.000000Z")
    assert ledger_entry(credit_bonus(occurred_at=AT), SOURCE).occurred_at == AT


@pytest.mark.parametrize("value", ["2025-03-14T09:00:00", "14/03/2025", ""])
def test_a_timestamp_without_offset_or_malformed_is_refused(value: str) -> None:
    with pytest.raises(InvalidTimestamp, match="occurred_at"):
        ledger_entry(credit_bonus(occurred_at=value), SOURCE)


def test_a_stored_entry_has_the_same_effect_only_with_the_same_manager_and_amount() -> None:
    entry = ledger_entry(debit_fine(500), SOURCE)

    assert entry.has_same_effect("anna", -500)
    assert not entry.has_same_effect("anna", -501)
    assert not entry.has_same_effect("boris", -500)
