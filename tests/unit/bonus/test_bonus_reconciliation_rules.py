"""The comparison of money issued with the ledger's entries: pure rules, no I/O."""

from __future__ import annotations

from dataclasses import replace

import pytest

from teacher_hiring.bonus.domain.errors import InvalidAmount
from teacher_hiring.bonus.domain.model import EventSource
from teacher_hiring.bonus.domain.reconciliation import Gap, Money, Window, expected, reconcile

WINDOW = Window("2025-03-14T00:00:00.000000Z", "2025-03-15T00:00:00.000000Z")
AT = "2025-03-14T09:00:00.000000Z"
BEFORE = "2025-03-13T23:59:59.999999Z"


def money(
    n: int,
    *,
    manager: str = "m-1",
    cents: int = 1000,
    key: str | None = None,
    at: str = AT,
    event_id: str | None = None,
) -> Money:
    return Money(
        event_id=event_id or f"event-{n}",
        event_name="BonusAdded",
        producer="hiring",
        manager_id=manager,
        amount_cents=cents,
        business_key=key or f"bonus:submission-{n}",
        occurred_at=at,
    )


def test_the_same_money_on_both_sides_is_no_difference() -> None:
    issued = [money(1), money(2, cents=-500, key="fine:submission-2"), money(3, manager="m-2")]
    result = reconcile(issued, list(issued), WINDOW)
    assert result.clean
    assert result.by_kind() == {kind.value: 0 for kind in Gap}
    [first, second] = result.managers
    assert (first.manager_id, first.issued_cents, first.ledger_cents) == ("m-1", 500, 500)
    assert (first.issued_count, first.ledger_count, first.differences) == (2, 2, 0)
    assert (second.manager_id, second.issued_cents, second.ledger_cents) == ("m-2", 1000, 1000)


def test_money_issued_but_not_in_the_ledger_is_missing_and_repairable() -> None:
    issued = [money(1), money(2), money(3)]
    result = reconcile(issued, [issued[0], issued[2]], WINDOW)
    [difference] = result.differences
    assert difference.kind is Gap.MISSING
    assert difference.repairable
    assert difference.issued == issued[1]
    assert difference.booked is None
    assert "event-2" in difference.detail
    [totals] = result.managers
    assert (totals.issued_cents, totals.ledger_cents, totals.differences) == (3000, 2000, 1)


def test_an_entry_nobody_issued_is_reported_and_not_repairable() -> None:
    issued = [money(1)]
    stray = money(9, manager="m-2")
    result = reconcile(issued, [issued[0], stray], WINDOW)
    [difference] = result.differences
    assert (difference.kind, difference.manager_id) == (Gap.NOT_ISSUED, "m-2")
    assert not difference.repairable
    assert difference.booked == stray
    assert difference.issued is None


def test_the_business_key_under_an_event_id_nobody_issued_is_another_event_id() -> None:
    issued = money(1)
    booked = replace(issued, event_id="event-unknown")
    result = reconcile([issued], [booked], WINDOW)
    [difference] = result.differences
    assert difference.kind is Gap.OTHER_EVENT_ID
    assert not difference.repairable  # the money is in the ledger: re-sending changes nothing
    assert (difference.issued, difference.booked) == (issued, booked)
    assert "event-unknown" in difference.detail


def test_the_same_money_issued_twice_and_held_once_is_no_difference() -> None:
    original = money(1)
    re_emitted = replace(original, event_id="event-1-again", occurred_at=AT.replace("09", "10"))
    result = reconcile([original, re_emitted], [original], WINDOW)
    assert result.clean
    [totals] = result.managers
    assert (totals.issued_count, totals.issued_cents) == (1, 1000)  # once per business key


def test_the_same_money_issued_twice_and_held_by_neither_is_missing_once() -> None:
    original = money(1)
    re_emitted = replace(original, event_id="event-1-again")
    [difference] = reconcile([original, re_emitted], [], WINDOW).differences
    assert (difference.kind, difference.issued) == (Gap.MISSING, original)


@pytest.mark.parametrize(
    ("booked_change", "words"),
    [
        ({"amount_cents": 900}, ["amount 10.00 issued, 9.00"]),
        ({"manager_id": "m-2"}, ["manager m-1 issued, m-2"]),
        ({"amount_cents": -1, "manager_id": "m-3"}, ["amount 10.00 issued, -0.01", "m-3"]),
    ],
)
def test_the_same_event_with_another_amount_or_manager_is_a_mismatch(
    booked_change: dict[str, object], words: list[str]
) -> None:
    issued = money(1)
    booked = replace(issued, **booked_change)  # type: ignore[arg-type]
    [difference] = reconcile([issued], [booked], WINDOW).differences
    assert difference.kind is Gap.MISMATCH
    assert not difference.repairable
    assert all(word in difference.detail for word in words), difference.detail


def test_a_re_emission_held_with_another_amount_is_a_mismatch() -> None:
    held = money(1)
    other = replace(held, event_id="event-1-again", amount_cents=1200)
    result = reconcile([held, other], [held], WINDOW)
    [difference] = result.differences
    assert (difference.kind, difference.issued, difference.booked) == (Gap.MISMATCH, other, held)
    assert "(under event-1)" in difference.detail


def test_the_window_cuts_both_sides_at_the_same_moment() -> None:
    inside, outside = money(1), money(2, at=BEFORE)
    late_entry = money(3, at=WINDOW.until)  # the end is excluded
    result = reconcile([inside, outside], [inside, late_entry], WINDOW)
    assert result.clean
    [totals] = result.managers
    assert (totals.issued_count, totals.ledger_count) == (1, 1)


def test_an_entry_outside_the_window_still_matches_what_was_issued_inside() -> None:
    issued = money(1)
    found_by_key = replace(issued, event_id="event-9", occurred_at=BEFORE)
    result = reconcile([issued], [found_by_key], WINDOW)
    [difference] = result.differences
    assert difference.kind is Gap.OTHER_EVENT_ID  # not MISSING: nothing to re-send
    [totals] = result.managers
    assert totals.ledger_count == 0  # outside the window: matched, never counted


def test_differences_come_by_manager_then_by_moment() -> None:
    issued = [
        money(1, manager="m-2", at="2025-03-14T08:00:00.000000Z"),
        money(2, manager="m-1", at="2025-03-14T10:00:00.000000Z"),
        money(3, manager="m-1", at="2025-03-14T07:00:00.000000Z"),
    ]
    result = reconcile(issued, [], WINDOW)
    assert [d.issued.event_id for d in result.differences if d.issued] == [
        "event-3",
        "event-2",
        "event-1",
    ]


def test_a_page_read_twice_counts_once() -> None:
    issued = money(1)
    result = reconcile([issued, issued], [issued, issued], WINDOW)
    assert result.clean
    assert result.managers[0].issued_count == result.managers[0].ledger_count == 1


def test_the_expected_entry_follows_the_ledgers_own_rules() -> None:
    source = EventSource("e-1", "FineAdded", "hiring", "trace")
    payload = {
        "manager_id": "m-1",
        "amount_cents": 500,
        "submission_id": "s-1",
        "candidate_id": "c-1",
        "exercise_id": "x-1",
        "exercise_version": 1,
        "completion_number": 11,
        "reason": "leaked",
        "occurred_at": "2025-03-14T12:00:00+03:00",
    }
    fine = expected("FineAdded", payload, source)
    assert (fine.amount_cents, fine.business_key) == (-500, "fine:s-1")
    assert fine.occurred_at == AT
    with pytest.raises(InvalidAmount):
        expected("FineAdded", {**payload, "amount_cents": 5.0}, source)
