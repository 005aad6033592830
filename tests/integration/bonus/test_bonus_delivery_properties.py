"""Whatever the transport does within its guarantees, the ledger and the ratings come out the same.

Each example draws a set of money and rating events, delivers it once in order, and delivers
the same set again (under other ids) the way the transport may: streams interleaved, copies
re-sent after later events, records read again after a consumer dies between its database
commit and its offset commit (what is allowed is spelled out in delivery_support). Both go
through the bonus service's consumer groups, handlers, inbox and unit of work, on SQLite and
on PostgreSQL, and must leave the ledger, the balances and the ratings the rules give.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integration.bonus.bonus_support import Bonus
from integration.bonus.delivery_support import (
    EXERCISES,
    Consumers,
    Events,
    History,
    Publish,
    RatingChange,
    dead_letters,
    deliveries,
    expected,
    histories,
    inbox_rows,
    observed,
)

pytestmark = pytest.mark.integration

PROPERTY = settings(
    max_examples=25,  # each example delivers its events twice through real databases
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def deliver(bonus: Bonus, events: Events, steps: list[Publish] | None = None) -> None:
    group = Consumers(bonus)
    try:
        everything = [Publish(tuple(range(len(events.envelopes))))]
        group.run(events, steps if steps is not None else everything)
    finally:
        group.close()


@PROPERTY
@given(data=st.data(), history=histories())
def test_any_delivery_the_transport_allows_leaves_the_ledger_of_one_delivery_in_order(
    bonus: Bonus, data: st.DataObject, history: History
) -> None:
    in_order = Events(history, f"o{uuid.uuid4().hex[:12]}")
    scrambled = Events(history, f"s{uuid.uuid4().hex[:12]}")
    steps = data.draw(deliveries(history), label="deliveries")
    dead_before = dead_letters(bonus)

    deliver(bonus, in_order)
    deliver(bonus, scrambled, steps)

    rules = expected(history)
    assert observed(bonus, in_order) == rules
    assert observed(bonus, scrambled) == rules
    assert inbox_rows(bonus, scrambled) == len(history.facts)
    assert dead_letters(bonus) == dead_before


@st.composite
def rating_replays(draw: st.DrawFn) -> tuple[History, list[Publish]]:
    """Ratings of one exercise delivered in any order at all, with copies: more than the
    transport allows (an operator re-publishing old events), and still only the newest holds."""
    versions = draw(st.lists(st.integers(1, 50), min_size=1, max_size=8, unique=True))
    facts = tuple(
        RatingChange(draw(st.integers(0, EXERCISES - 1)), draw(st.integers(0, 100)), v)
        for v in sorted(versions)
    )
    order = draw(st.permutations(range(len(facts))))
    order += draw(st.lists(st.sampled_from(range(len(facts))), max_size=4))
    cuts = draw(st.lists(st.integers(1, 3), min_size=len(order), max_size=len(order)))
    steps, start = [], 0
    for size in cuts:
        if start < len(order):
            steps.append(Publish(tuple(order[start : start + size])))
            start += size
    return History(facts), steps


@settings(PROPERTY, max_examples=20)
@given(replay=rating_replays())
def test_an_older_rating_version_never_overwrites_a_newer_one(
    bonus: Bonus, replay: tuple[History, list[Publish]]
) -> None:
    history, steps = replay
    events = Events(history, f"r{uuid.uuid4().hex[:12]}")
    group = Consumers(bonus)
    try:
        for step in steps:  # each publication consumed before the next: order is exactly this
            group.run(events, [step])
    finally:
        group.close()

    assert observed(bonus, events).ratings == expected(history).ratings
