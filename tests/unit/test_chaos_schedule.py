"""The chaos run's schedule of faults: fixed by the seed, spread over the run, every kind."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from teacher_hiring.chaos.faults import consumers_of, poison_record
from teacher_hiring.chaos.schedule import BROKER, Kind, Plan, Poison, schedule
from teacher_hiring.messaging.envelope import MalformedEvent
from teacher_hiring.messaging.registry import SchemaRegistry, SchemaViolation
from teacher_hiring.messaging.wire import RecordCodec

PLAN = Plan(
    seconds=120,
    kill_targets=["exercises", "hiring", "hiring-2", "bonus", "bonus-2"],
    topics=["money", "exercises", "managers"],
    databases=["exercises", "hiring", "bonus"],
    broker_kill_interval_s=30,
)


def test_the_same_seed_gives_the_same_faults_and_another_seed_others() -> None:
    assert schedule(PLAN, 7) == schedule(PLAN, 7)
    assert schedule(PLAN, 7) != schedule(PLAN, 8)


def test_faults_come_in_time_order_within_the_run_about_once_per_interval() -> None:
    faults = schedule(PLAN, 1)
    times = [f.at_s for f in faults]
    assert times == sorted(times) and times[0] > 0 and times[-1] < PLAN.seconds
    per_kind = Counter(f.kind for f in faults)
    expected = {
        Kind.KILL: 120 / 5 + 120 / 30,
        Kind.DUPLICATE: 120 / 2,
        Kind.POISON: 120 / 3,
        Kind.OUTAGE: 120 / 6,
    }
    for kind, mean in expected.items():
        assert 0.6 * mean <= per_kind[kind] <= 1.4 * mean, (kind, per_kind[kind])


def test_targets_are_drawn_from_the_plan_and_every_one_is_hit_in_a_long_run() -> None:
    faults = schedule(replace(PLAN, seconds=600), 3)
    kills = {f.target for f in faults if f.kind is Kind.KILL}
    assert kills == {*PLAN.kill_targets, BROKER}
    assert {f.target for f in faults if f.kind is Kind.POISON} == set(PLAN.topics)
    assert {f.variant for f in faults if f.kind is Kind.POISON} == {p.value for p in Poison}
    outages = [f for f in faults if f.kind is Kind.OUTAGE]
    assert {f.target for f in outages} == set(PLAN.databases)
    assert all(PLAN.outage_min_s <= f.duration_s <= PLAN.outage_max_s for f in outages)


def test_changing_one_kind_of_fault_leaves_the_others_where_they_were() -> None:
    fewer_kills = replace(PLAN, kill_interval_s=20.0)
    others = [f for f in schedule(PLAN, 5) if f.kind is not Kind.KILL]
    assert [f for f in schedule(fewer_kills, 5) if f.kind is not Kind.KILL] == others


def test_an_interval_of_zero_turns_that_fault_off() -> None:
    plan = replace(PLAN, kill_interval_s=0, broker_kill_interval_s=0, outage_interval_s=0)
    kinds = {f.kind for f in schedule(plan, 1)}
    assert kinds == {Kind.DUPLICATE, Kind.POISON}


def test_the_broker_is_killed_on_a_schedule_of_its_own() -> None:
    broker_kills = [f for f in schedule(PLAN, 4) if f.target == BROKER]
    assert 2 <= len(broker_kills) <= 6
    without = schedule(replace(PLAN, broker_kill_interval_s=0), 4)
    assert without == [f for f in schedule(PLAN, 4) if f.target != BROKER]


@pytest.mark.parametrize(
    ("change", "field"),
    [({"seconds": 0}, "seconds"), ({"poison_interval_s": -1}, "poison_interval")],
)
def test_a_plan_that_cannot_run_is_refused_naming_the_field(
    change: dict[str, float], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        replace(PLAN, **change)


@pytest.mark.parametrize("variant", list(Poison))
@pytest.mark.parametrize("topic", ["money", "managers", "exercises"])
def test_every_poison_is_refused_by_the_consumers_parsing(variant: Poison, topic: str) -> None:
    registry = SchemaRegistry.load()
    value, headers = poison_record(variant, topic, registry)
    with pytest.raises((MalformedEvent, SchemaViolation)):
        envelope = RecordCodec(registry).decode(value, headers)
        registry.validate(envelope.as_dict())


def test_a_poison_record_is_dead_lettered_by_every_service_reading_its_topic() -> None:
    registry = SchemaRegistry.load()
    assert consumers_of("money", registry) == {"bonus"}
    assert consumers_of("managers", registry) == {"hiring", "bonus"}
