"""Properties of the bonus service's rules for any money and any order (no database, no web)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from teacher_hiring.bonus.domain.commands import (
    CreditBonus,
    CreditPayment,
    DebitFine,
    MoneyCommand,
)
from teacher_hiring.bonus.domain.model import (
    EntryKind,
    EventSource,
    ledger_entry,
)
from teacher_hiring.bonus.domain.rating import newer_rating_wins
from teacher_hiring.bonus.domain.statement import Period, statement

AT = "2025-03-14T09:26:53.589793Z"
SOURCE = EventSource("ev-1", "BonusAdded", "hiring", "trace-1")
cents = st.integers(1, 10**12)
ids = st.text("abcdef0123456789-", min_size=1, max_size=20)


@st.composite
def money_commands(draw: st.DrawFn) -> MoneyCommand:
    amount, manager, reference = draw(cents), draw(ids), draw(ids)
    kind = draw(st.sampled_from(("bonus", "fine", "payment")))
    if kind == "bonus":
        return CreditBonus(manager, amount, reference, "c-1", "ex-1", 1, 3, 40, 2, AT)
    if kind == "fine":
        return DebitFine(manager, amount, reference, "c-1", "ex-1", 1, 11, "leaked", AT)
    return CreditPayment(manager, amount, reference, "ex-1", 2, AT)


SIGN = {EntryKind.BONUS: 1, EntryKind.FINE: -1, EntryKind.PAYMENT: 1}
KEY = {CreditBonus: "bonus:", DebitFine: "fine:", CreditPayment: "payment:"}


@given(command=money_commands())
def test_every_money_event_is_one_entry_of_its_amount_signed_by_its_kind(
    command: MoneyCommand,
) -> None:
    entry = ledger_entry(command, SOURCE)

    assert entry.amount_cents == SIGN[entry.kind] * command.amount_cents
    assert entry.manager_id == command.manager_id
    assert entry.business_key.startswith(KEY[type(command)])
    assert ledger_entry(command, SOURCE) == entry  # the same event, the same entry


@given(commands=st.lists(money_commands(), max_size=30), opening=st.integers(-(10**12), 10**12))
def test_a_statement_closes_at_its_opening_plus_the_signed_sum_of_its_entries(
    commands: list[MoneyCommand], opening: int
) -> None:
    entries = [ledger_entry(command, SOURCE) for command in commands]
    period = Period(date(2025, 3, 1), date(2025, 4, 1))

    result = statement(period, opening, ((e.kind, e.amount_cents) for e in entries))

    assert result.closing_balance_cents == opening + sum(e.amount_cents for e in entries)
    totals = result.totals
    assert totals.bonus_count + totals.fine_count + totals.payment_count == len(entries)
    assert min(totals.bonus_cents, totals.fine_cents, totals.payment_cents) >= 0


@given(versions=st.lists(st.integers(0, 1000), min_size=1, max_size=30))
def test_whatever_order_ratings_arrive_in_the_newest_rating_version_is_kept(
    versions: list[int],
) -> None:
    held: int | None = None
    for incoming in versions:
        if newer_rating_wins(held, incoming):
            held = incoming

    assert held == max(versions)
    assert not newer_rating_wins(held, held)
