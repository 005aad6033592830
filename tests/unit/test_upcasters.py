"""Every stored version of every event can still be read: the upcasters, checked in CI.

For each event and each version in the registry, the example of that version validates, is
raised step by step to the newest version, and validates against the newest schema. And every
consumer subscription reads every version in the registry: its handlers are written for the
newest version, and the upcaster has every step from v0 up to it. The leak report's step asks
its producer for the version; here a stand-in answers as hiring's records would.
"""

from __future__ import annotations

from typing import Any

import pytest
from event_examples import CANDIDATE_ID, EXAMPLE_PAYLOADS, example_envelope, example_payload
from sqlalchemy import Connection

from teacher_hiring.bonus.entrypoints import consumers as bonus_consumers
from teacher_hiring.events.exercises import (
    DEFAULT_DIFFICULTY,
    DEFAULT_SUBJECT,
    exercise_v0_to_v1,
    manager_v0_to_v1,
    split_name,
)
from teacher_hiring.events.hiring import LEAK_EVENT, leak_v0_to_v1
from teacher_hiring.events.upcasters import STEPS, event_upcaster
from teacher_hiring.exercises.adapters.repository import Repository
from teacher_hiring.exercises.domain.model import ComplicationRules
from teacher_hiring.exercises.entrypoints import consumers as exercises_consumers
from teacher_hiring.hiring.entrypoints import consumers as hiring_consumers
from teacher_hiring.messaging.consumer import EventHandler, Subscription, version_gaps
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.messaging.upcasting import Upcaster

LEAKED = {(EXAMPLE_PAYLOADS[(LEAK_EVENT, 0)]["exercise_id"], CANDIDATE_ID): 1}
"""What hiring recorded: the version each (exercise, candidate) completion was of."""


def hiring_records(payload: dict[str, Any]) -> int:
    return LEAKED[(payload["exercise_id"], payload["candidate_id"])]


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load()


def every_stored_version() -> list[tuple[str, int]]:
    registry = SchemaRegistry.load()
    return [(spec.name, version) for spec in registry.events() for version in spec.versions]


def _unbound(_conn: Connection) -> UnitOfWork[Repository]:
    raise AssertionError("never called: the subscriptions are only read")


def own_upcaster(service: str) -> Upcaster:
    """The steps a service's bootstrap composes for its consumers."""
    if service == "exercises":
        return exercises_consumers.upcaster(hiring_records)
    if service == "hiring":
        return hiring_consumers.upcaster()
    return bonus_consumers.upcaster()


def every_subscription() -> list[tuple[str, Subscription]]:
    found = [
        *(
            ("exercises", s)
            for s in exercises_consumers.subscriptions(_unbound, ComplicationRules())
        ),
        *(("hiring", s) for s in hiring_consumers.subscriptions()),
        *(("bonus", s) for s in bonus_consumers.subscriptions()),
    ]
    return found


# --- the CI check ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "version"), every_stored_version())
def test_every_stored_version_upcasts_to_a_valid_newest_version(
    registry: SchemaRegistry, name: str, version: int
) -> None:
    stored = Envelope.from_dict(example_envelope(name, version))
    registry.validate_envelope(stored)
    newest = registry.spec(name).latest_version

    upcast = event_upcaster(hiring_records).upcast(stored, newest)

    assert upcast.event_version == newest
    registry.validate_envelope(upcast)
    assert (upcast.event_id, upcast.trace_id) == (stored.event_id, stored.trace_id)


@pytest.mark.parametrize(
    ("service", "subscription"),
    every_subscription(),
    ids=lambda value: value if isinstance(value, str) else value.group,
)
def test_every_consumer_reads_every_version_still_in_the_registry(
    registry: SchemaRegistry, service: str, subscription: Subscription
) -> None:
    assert version_gaps(subscription, registry, event_upcaster(hiring_records)) == []
    for name, handler in subscription.handlers.items():
        assert handler.version == registry.spec(name).latest_version, (
            f"{service}'s {subscription.group} reads {name} v{handler.version}; newer versions "
            "in the registry would be dead-lettered"
        )


@pytest.mark.parametrize(
    ("service", "subscription"),
    every_subscription(),
    ids=lambda value: value if isinstance(value, str) else value.group,
)
def test_each_service_composes_the_steps_its_own_consumers_need(
    registry: SchemaRegistry, service: str, subscription: Subscription
) -> None:
    assert version_gaps(subscription, registry, own_upcaster(service)) == []


def test_the_examples_cover_every_stored_version() -> None:
    assert set(EXAMPLE_PAYLOADS) >= set(every_stored_version())


def test_a_gap_in_the_steps_is_named(registry: SchemaRegistry) -> None:
    reads_v1 = Subscription("g", {"ManagerCreated": EventHandler(lambda e, c: None, version=1)})
    reads_v2 = Subscription("g", {"ManagerCreated": EventHandler(lambda e, c: None, version=2)})
    assert version_gaps(reads_v1, registry, Upcaster()) == [
        "no upcaster for ManagerCreated v0 -> v1"
    ]
    assert version_gaps(reads_v2, registry, event_upcaster()) == [
        "ManagerCreated: the handler reads v2, the registry has v0, v1"
    ]


# --- each step on its own -------------------------------------------------------------------


def test_every_step_leads_from_a_version_in_the_registry(registry: SchemaRegistry) -> None:
    for name, version in STEPS:
        assert version + 1 in registry.spec(name).versions


@pytest.mark.parametrize("name", ["ExerciseCreated", "ExerciseUpdated"])
def test_an_exercise_of_v0_gets_the_defaults_of_the_v1_schema(
    registry: SchemaRegistry, name: str
) -> None:
    properties = registry.schema(name, 1)["properties"]
    assert (
        properties["subject"]["default"],
        properties["difficulty"]["default"],
    ) == (DEFAULT_SUBJECT, DEFAULT_DIFFICULTY)
    old = example_payload(name, 0)
    assert exercise_v0_to_v1(old) == {**old, "subject": "general", "difficulty": 3}


@pytest.mark.parametrize(
    ("name", "first_name", "last_name"),
    [
        ("Anna Petrova", "Anna", "Petrova"),
        ("Anna Maria Petrova", "Anna", "Maria Petrova"),
        ("Anna \t Petrova", "Anna", "Petrova"),
        ("  Anna Petrova", "Anna", "Petrova"),
        ("Madonna", "Madonna", ""),
        (" ", " ", ""),
    ],
)
def test_a_full_name_splits_at_its_first_run_of_whitespace(
    name: str, first_name: str, last_name: str
) -> None:
    assert split_name(name) == (first_name, last_name)


@pytest.mark.parametrize("name", ["Anna Petrova", "Madonna", " ", "x" * 200, "a " + "b" * 197])
def test_a_manager_of_v0_becomes_a_valid_manager_of_v1_without_a_team(
    registry: SchemaRegistry, name: str
) -> None:
    old: dict[str, Any] = {**example_payload("ManagerCreated", 0), "name": name}
    first_name, last_name = split_name(name)
    new = manager_v0_to_v1(old)
    assert new == {
        "manager_id": old["manager_id"],
        "first_name": first_name,
        "last_name": last_name,
        "team": None,
        "email": old["email"],
    }
    for event in ("ManagerCreated", "ManagerUpdated"):
        envelope = {**example_envelope(event, 1), "payload": new}
        registry.validate(envelope)


# --- the leak report's step (v1 names the leaked version) --------------------------------------


def test_a_leak_report_of_v0_gets_the_version_hiring_recorded_for_its_candidate(
    registry: SchemaRegistry,
) -> None:
    old = example_payload(LEAK_EVENT, 0)
    asked: list[dict[str, Any]] = []

    def hiring(payload: dict[str, Any]) -> int:
        asked.append(payload)
        return 4

    upcast = event_upcaster(hiring).upcast(
        Envelope.from_dict({**example_envelope(LEAK_EVENT, 0), "payload": old}), 1
    )

    assert asked == [old]
    assert upcast.payload == {**old, "exercise_version": 4}
    registry.validate_envelope(upcast)
    assert leak_v0_to_v1(old, 4) == upcast.payload


def test_a_leak_report_of_v1_is_read_as_it_is_without_asking_anyone() -> None:
    def nobody(_payload: dict[str, Any]) -> int:
        raise AssertionError("a v1 report names its version")

    stored = Envelope.from_dict(example_envelope(LEAK_EVENT, 1))
    assert event_upcaster(nobody).upcast(stored, 1) is stored


def test_when_hiring_cannot_say_the_report_is_not_read_rather_than_guessed() -> None:
    def unreachable(_payload: dict[str, Any]) -> int:
        raise ConnectionError("hiring: cannot be reached")

    stored = Envelope.from_dict(example_envelope(LEAK_EVENT, 0))
    with pytest.raises(ConnectionError):
        event_upcaster(unreachable).upcast(stored, 1)


def test_without_a_way_to_ask_hiring_no_consumer_of_v0_leak_reports_can_be_built(
    registry: SchemaRegistry,
) -> None:
    reads_v1 = Subscription("g", {LEAK_EVENT: EventHandler(lambda e, c: None, version=1)})
    assert version_gaps(reads_v1, registry, event_upcaster()) == [
        f"no upcaster for {LEAK_EVENT} v0 -> v1"
    ]
    assert version_gaps(reads_v1, registry, event_upcaster(hiring_records)) == []
