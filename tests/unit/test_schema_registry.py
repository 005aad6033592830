"""The schema registry: the contract every event between the three services must keep."""

from __future__ import annotations

import json
import pickle
import re
import shutil
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import yaml
from event_examples import (
    CANDIDATE_ID,
    EXAMPLE_PAYLOADS,
    EXERCISE_ID,
    MANAGER_ID,
    PRODUCERS,
    example_envelope,
)

from missing_part import missing
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.registry import (
    RegistryError,
    SchemaRegistry,
    SchemaViolation,
    UnknownEvent,
)

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas"
SEED = REPO.parent / "shared" / "seeds" / "003_88c48a8206023cfc.txt"


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load(SCHEMAS)


def refusal(registry: SchemaRegistry, event: dict[str, Any]) -> SchemaViolation:
    with pytest.raises(SchemaViolation) as caught:
        registry.validate(event)
    return caught.value


# --- the seed's two schemas -----------------------------------------------------------------


def seed_schemas() -> dict[str, dict[str, Any]]:
    if not SEED.is_file():
        missing(f"the seed document is not next to the repo ({SEED})")
    blocks = re.findall(r"```\n(\{.*?\n\})\n```", SEED.read_text(encoding="utf-8"), flags=re.S)
    schemas = [json.loads(block) for block in blocks]
    return {schema["title"]: schema for schema in schemas}


SEED_CANDIDATE_CREATED: dict[str, Any] = {
    "event_id": "0b7e2f4c-3a51-4f0e-9c62-8d1e5a7b9c10",
    "event_version": 0,
    "event_name": "CandidateCreated",
    "produced_at": "2025-03-14T09:26:53Z",
    "producer": "hiring",
    "trace_id": "6f1d0c2b9a8e4d7c",
    "payload": {
        "candidate_id": CANDIDATE_ID,
        "candidate_name": "Ivan Sidorov",
        "created_at": "2025-03-14T09:26:53+03:00",
        "status": "candidate",
        "exercises_to_solve": [{"exercise_id": EXERCISE_ID}, {"exercise_id": "ex-2"}],
    },
}

SEED_EXERCISE_COMPLETED: dict[str, Any] = {
    "event_id": "1c8f3a5d-4b62-4a1f-8d73-9e2f6b8c0d21",
    "event_version": 0,
    "event_name": "ExerciseCompletedMoreThenTenTimes",
    "produced_at": "2025-03-14T10:00:00.123456Z",
    "producer": "hiring",
    "trace_id": "7a2e1d3c0b9f5e8d",
    "payload": {
        "exercise_id": EXERCISE_ID,
        "title": "Sum of two numbers",
        "author_id": MANAGER_ID,
        "candidate_id": CANDIDATE_ID,
    },
}


def broken(event: dict[str, Any], *path: str, value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(event))
    target = copy
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copy


def test_seed_candidate_created_schema_is_version_0_as_written(registry: SchemaRegistry) -> None:
    assert registry.schema("CandidateCreated", 0) == seed_schemas()["CandidateCreated"]


def test_seed_exercise_completed_more_then_ten_times_schema_is_version_0_as_written(
    registry: SchemaRegistry,
) -> None:
    assert (
        registry.schema("ExerciseCompletedMoreThenTenTimes", 0)
        == seed_schemas()["ExerciseCompletedMoreThenTenTimes"]
    )


def test_seed_candidate_created_example_validates_as_version_0(registry: SchemaRegistry) -> None:
    registry.validate(SEED_CANDIDATE_CREATED)


def test_seed_candidate_created_may_leave_out_exercises_to_solve(registry: SchemaRegistry) -> None:
    event = json.loads(json.dumps(SEED_CANDIDATE_CREATED))
    del event["payload"]["exercises_to_solve"]
    registry.validate(event)


def test_seed_candidate_created_with_an_unknown_status_is_refused_naming_status(
    registry: SchemaRegistry,
) -> None:
    error = refusal(registry, broken(SEED_CANDIDATE_CREATED, "payload", "status", value="admin"))
    assert str(error).startswith("CandidateCreated v0: payload.status: ")


def test_seed_candidate_created_with_an_exercise_without_id_is_refused(
    registry: SchemaRegistry,
) -> None:
    event = broken(SEED_CANDIDATE_CREATED, "payload", "exercises_to_solve", value=[{"id": "x"}])
    error = refusal(registry, event)
    assert 'payload.exercises_to_solve[0]: "exercise_id" is a required property' in str(error)


def test_seed_exercise_completed_more_then_ten_times_example_validates_as_version_0(
    registry: SchemaRegistry,
) -> None:
    registry.validate(SEED_EXERCISE_COMPLETED)


def test_seed_exercise_completed_more_then_ten_times_with_a_numeric_author_is_refused(
    registry: SchemaRegistry,
) -> None:
    event = broken(SEED_EXERCISE_COMPLETED, "payload", "author_id", value=42)
    error = refusal(registry, event)
    assert error.errors == ['payload.author_id: 42 is not of type "string"']


def test_seed_exercise_completed_more_then_ten_times_refuses_an_extra_payload_field(
    registry: SchemaRegistry,
) -> None:
    event = broken(SEED_EXERCISE_COMPLETED, "payload", "bonus_cents", value=100)
    assert "'bonus_cents' was unexpected" in str(refusal(registry, event))


def test_seed_exercise_completed_more_then_ten_times_still_needs_producer_and_trace_id(
    registry: SchemaRegistry,
) -> None:
    """The seed's schema predates them; the envelope schema still demands them."""
    event = json.loads(json.dumps(SEED_EXERCISE_COMPLETED))
    del event["trace_id"]
    assert refusal(registry, event).errors == ['envelope: "trace_id" is a required property']


# --- every event ----------------------------------------------------------------------------


def all_versions() -> list[tuple[str, int]]:
    loaded = SchemaRegistry.load(SCHEMAS)
    return [(spec.name, version) for spec in loaded.events() for version in spec.versions]


@pytest.mark.parametrize(("name", "version"), all_versions())
def test_every_event_version_has_a_valid_example(
    registry: SchemaRegistry, name: str, version: int
) -> None:
    registry.validate(example_envelope(name, version))


def test_the_examples_cover_exactly_the_registered_events(registry: SchemaRegistry) -> None:
    assert set(EXAMPLE_PAYLOADS) == set(all_versions())
    assert {spec.name: spec.producer for spec in registry.events()} == PRODUCERS


def test_an_envelope_built_by_the_producer_code_validates(registry: SchemaRegistry) -> None:
    payload = EXAMPLE_PAYLOADS[("BonusAdded", 0)]
    registry.validate_envelope(Envelope.new("BonusAdded", 0, payload, producer="hiring"))


def test_a_read_only_mapping_validates_like_a_dict(registry: SchemaRegistry) -> None:
    registry.validate(MappingProxyType(example_envelope("FineAdded")))


def test_our_own_payload_schemas_are_closed_and_documented(registry: SchemaRegistry) -> None:
    for spec in registry.events():
        if spec.name in ("CandidateCreated", "ExerciseCompletedMoreThenTenTimes"):
            continue  # the seed's, as written
        schema = registry.schema(spec.name, spec.latest_version)
        assert schema["$id"] == f"urn:teacher-hiring:event:{spec.name}:v{spec.latest_version}"
        assert schema["additionalProperties"] is False, spec.name
        assert schema["description"], spec.name
        for field, prop in schema["properties"].items():
            assert prop.get("title"), f"{spec.name}.{field}"
            assert prop.get("description"), f"{spec.name}.{field}"


# --- refusals -------------------------------------------------------------------------------


def with_payload(name: str, **changes: Any) -> dict[str, Any]:
    event = example_envelope(name)
    event["payload"].update(changes)
    return event


def without(name: str, field: str) -> dict[str, Any]:
    event = example_envelope(name)
    del event["payload"][field]
    return event


REFUSALS: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "amount as text": (
        lambda: with_payload("BonusAdded", amount_cents="14.00"),
        'payload.amount_cents: "14.00" is not of type "integer"',
    ),
    "rating as a boolean": (
        lambda: with_payload("TaskRatingChanged", rating=True),
        'payload.rating: true is not of type "integer"',
    ),
    "check mode outside the enum": (
        lambda: with_payload("ExerciseCreated", check_mode="fuzzy"),
        'payload.check_mode: "fuzzy" is not one of "exact" or "normalized"',
    ),
    "missing title": (
        lambda: without("ExerciseCreated", "title"),
        'payload: "title" is a required property',
    ),
    "edit without its editor": (
        lambda: without("ExerciseUpdated", "edited_by"),
        'payload: "edited_by" is a required property',
    ),
    "extra field on a manager": (
        lambda: with_payload("ManagerCreated", phone="+7 900 000 00 00"),
        "payload: Additional properties are not allowed ('phone' was unexpected)",
    ),
    "extra field in a candidate's solved exercise": (
        lambda: with_payload("CandidateUpdated", exercises_solved=[{"exercise_id": "e", "x": 1}]),
        "payload.exercises_solved[0]: Additional properties are not allowed ('x' was unexpected)",
    ),
    "negative bonus": (
        lambda: with_payload("BonusAdded", amount_cents=-5),
        "payload.amount_cents: -5 is less than the minimum of 0",
    ),
    "zero fine": (
        lambda: with_payload("FineAdded", amount_cents=0),
        "payload.amount_cents: 0 is less than the minimum of 1",
    ),
    "zero payment": (
        lambda: with_payload("PaymentCommited", amount_cents=0),
        "payload.amount_cents: 0 is less than the minimum of 1",
    ),
    "payment for the first version": (
        lambda: with_payload("PaymentCommited", exercise_version=1),
        "payload.exercise_version: 1 is less than the minimum of 2",
    ),
    "bonus for the 11th completion": (
        lambda: with_payload("BonusAdded", completion_number=0),
        "payload.completion_number: 0 is less than the minimum of 1",
    ),
    "fine for the 10th completion": (
        lambda: with_payload("FineAdded", completion_number=1),
        "payload.completion_number: 1 is less than the minimum of 2",
    ),
    "rating above 100": (
        lambda: with_payload("TaskRatingChanged", rating=101),
        "payload.rating: 101 is greater than the maximum of 100",
    ),
    "exercise without answers": (
        lambda: with_payload("ExerciseCreated", accepted_answers=[]),
        "payload.accepted_answers: [] has less than 1 item",
    ),
    "empty accepted answer": (
        lambda: with_payload("ExerciseCreated", accepted_answers=["5", ""]),
        'payload.accepted_answers[1]: "" is shorter than 1 character',
    ),
    "date-time in words": (
        lambda: with_payload("BonusAdded", occurred_at="yesterday"),
        'payload.occurred_at: "yesterday" is not a "date-time"',
    ),
    "date-time without a time zone": (
        lambda: with_payload("FineAdded", occurred_at="2025-03-14T09:26:53"),
        'payload.occurred_at: "2025-03-14T09:26:53" is not a "date-time"',
    ),
    "bad email": (
        lambda: with_payload("ManagerUpdated", email="anna at school"),
        'payload.email: "anna at school" is not a "email"',
    ),
    "event id that is not a uuid": (
        lambda: {**example_envelope("BonusAdded"), "event_id": "42"},
        'event_id: "42" is not a "uuid"',
    ),
    "produced_at that is not a date-time": (
        lambda: {**example_envelope("ManagerCreated"), "produced_at": "14/03/2025"},
        'produced_at: "14/03/2025" is not a "date-time"',
    ),
    "extra envelope field": (
        lambda: {**example_envelope("ManagerCreated"), "priority": "high"},
        "envelope: Additional properties are not allowed ('priority' was unexpected)",
    ),
    "payload that is not an object": (
        lambda: {**example_envelope("ManagerCreated"), "payload": ["manager"]},
        'payload: ["manager"] is not of type "object"',
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_an_invalid_event_is_refused_naming_the_field(registry: SchemaRegistry, case: str) -> None:
    build, expected = REFUSALS[case]
    event = build()
    error = refusal(registry, event)
    assert expected in error.errors, str(error)
    assert str(error).startswith(f"{event['event_name']} v0: ")


def test_a_refusal_reads_as_event_version_field_and_rule(registry: SchemaRegistry) -> None:
    error = refusal(registry, with_payload("BonusAdded", amount_cents=-5))
    assert str(error) == "BonusAdded v0: payload.amount_cents: -5 is less than the minimum of 0"
    assert (error.event_name, error.event_version) == ("BonusAdded", 0)


def test_every_broken_field_is_reported_at_once(registry: SchemaRegistry) -> None:
    event = with_payload("BonusAdded", amount_cents=-5, rating=101)
    event["produced_at"] = "soon"
    errors = refusal(registry, event).errors
    assert len(errors) == 3
    assert {error.split(":")[0] for error in errors} == {
        "produced_at",
        "payload.amount_cents",
        "payload.rating",
    }


def test_a_huge_value_is_not_copied_into_the_refusal(registry: SchemaRegistry) -> None:
    error = refusal(registry, with_payload("ExerciseCreated", statement="x" * 20_001))
    (message,) = error.errors
    assert message.startswith("payload.statement: ")
    assert message.endswith("is longer than 20000 characters")
    assert len(message) < 300


def test_an_unknown_event_name_is_refused(registry: SchemaRegistry) -> None:
    event = {**example_envelope("BonusAdded"), "event_name": "BonusRemoved"}
    with pytest.raises(UnknownEvent) as caught:
        registry.validate(event)
    expected = "BonusRemoved v0: event_name: 'BonusRemoved' is not a registered event"
    assert str(caught.value) == expected


def test_an_unknown_event_version_is_refused(registry: SchemaRegistry) -> None:
    event = {**example_envelope("BonusAdded"), "event_version": 7}
    with pytest.raises(UnknownEvent) as caught:
        registry.validate(event)
    assert caught.value.errors == ["event_version: BonusAdded has no version 7 (known: 0)"]


def test_a_boolean_event_version_is_not_taken_for_a_number(registry: SchemaRegistry) -> None:
    event = {**example_envelope("BonusAdded"), "event_version": False}
    with pytest.raises(UnknownEvent) as caught:
        registry.validate(event)
    assert 'event_version: false is not of type "integer"' in caught.value.errors


def test_a_python_datetime_instead_of_rfc3339_text_is_refused(registry: SchemaRegistry) -> None:
    event = with_payload("BonusAdded", occurred_at=datetime.now(UTC))
    assert "not JSON data" in str(refusal(registry, event))


def test_a_refusal_survives_the_trip_to_another_process(registry: SchemaRegistry) -> None:
    error = refusal(registry, with_payload("FineAdded", amount_cents=0))
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.errors) == (str(error), error.errors)


def test_validating_a_valid_event_takes_microseconds(registry: SchemaRegistry) -> None:
    """It runs on every produce and consume; a generous bound catches an accidental slow path."""
    event = example_envelope("BonusAdded")
    best = min(timeit.repeat(lambda: registry.validate(event), number=2000, repeat=5)) / 2000
    assert best < 100e-6


# --- topics, keys and lookups ---------------------------------------------------------------


def test_topics_are_listed_once_each_in_order(registry: SchemaRegistry) -> None:
    assert registry.topics() == [
        "candidates",
        "exercise-completions",
        "exercises",
        "managers",
        "money",
        "payments",
        "task-ratings",
    ]


def test_each_producers_money_has_a_topic_of_its_own_keyed_by_manager(
    registry: SchemaRegistry,
) -> None:
    hiring, exercises = registry.events_on_topic("money"), registry.events_on_topic("payments")
    assert {spec.name for spec in hiring} == {"BonusAdded", "FineAdded"}
    assert {spec.name for spec in exercises} == {"PaymentCommited"}
    assert {spec.key for spec in (*hiring, *exercises)} == {"manager_id"}
    assert (registry.topic_owner("money"), registry.topic_owner("payments")) == (
        "hiring",
        "exercises",
    )
    assert all(spec.consumers == ("bonus",) for spec in (*hiring, *exercises))


def test_every_topic_has_one_owner_and_an_unknown_topic_none(registry: SchemaRegistry) -> None:
    for topic in registry.topics():
        assert {spec.producer for spec in registry.events_on_topic(topic)} == {
            registry.topic_owner(topic)
        }
    assert registry.topic_owner("task") is None


def test_an_unused_topic_has_no_events(registry: SchemaRegistry) -> None:
    assert registry.events_on_topic("task") == []


def test_manager_events_reach_hiring_and_bonus(registry: SchemaRegistry) -> None:
    spec = registry.spec("ManagerUpdated")
    assert (spec.topic, spec.key, spec.producer) == ("managers", "manager_id", "exercises")
    assert spec.consumers == ("hiring", "bonus")


def test_the_leaked_exercise_event_is_described_as_a_whole_event(
    registry: SchemaRegistry,
) -> None:
    spec = registry.spec("ExerciseCompletedMoreThenTenTimes")
    assert (spec.topic, spec.key, spec.scope) == ("exercise-completions", "exercise_id", "envelope")


def test_every_event_is_backward_compatible_but_the_manager_events_and_the_leak_report(
    registry: SchemaRegistry,
) -> None:
    breaking = {"ManagerCreated", "ManagerUpdated"}  # v1 splits the name: NONE, on purpose
    breaking.add("ExerciseCompletedMoreThenTenTimes")  # v1 requires the leaked version
    two_versions = {"ManagerCreated", "ManagerUpdated", "ExerciseCreated", "ExerciseUpdated"}
    three_versions = {"ExerciseCompletedMoreThenTenTimes"}  # v2 requires completed_by
    for spec in registry.events():
        assert spec.compatibility == ("NONE" if spec.name in breaking else "BACKWARD")
        expected = (0, 1, 2) if spec.name in three_versions else (0, 1)
        assert spec.versions == (expected if spec.name in breaking | two_versions else (0,))


def test_a_bonus_is_partitioned_by_its_manager(registry: SchemaRegistry) -> None:
    payload = EXAMPLE_PAYLOADS[("BonusAdded", 0)]
    assert registry.partition_key("BonusAdded", payload) == MANAGER_ID


def test_a_leaked_exercise_is_partitioned_by_the_exercise(registry: SchemaRegistry) -> None:
    payload = SEED_EXERCISE_COMPLETED["payload"]
    assert registry.partition_key("ExerciseCompletedMoreThenTenTimes", payload) == EXERCISE_ID


def test_a_payload_without_its_key_cannot_be_partitioned(registry: SchemaRegistry) -> None:
    with pytest.raises(SchemaViolation, match=r"payload\.manager_id: missing"):
        registry.partition_key("FineAdded", {"amount_cents": 500})


def test_looking_up_an_unknown_event_or_version_fails(registry: SchemaRegistry) -> None:
    with pytest.raises(UnknownEvent):
        registry.spec("TaskRating")
    with pytest.raises(UnknownEvent, match="has no version 1"):
        registry.schema("BonusAdded", 1)


def test_a_served_schema_cannot_change_the_registry(registry: SchemaRegistry) -> None:
    registry.schema("BonusAdded", 0)["properties"].clear()
    assert "amount_cents" in registry.schema("BonusAdded", 0)["properties"]


# --- loading --------------------------------------------------------------------------------


def test_the_default_folder_is_the_repos_schemas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TH_SCHEMAS_DIR", raising=False)
    assert len(SchemaRegistry.load().events()) == len(SchemaRegistry.load(SCHEMAS).events())


def test_the_folder_can_be_chosen_by_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, folder)
    shutil.rmtree(folder / "PaymentCommited")
    catalogue = yaml.safe_load((folder / "events.yaml").read_text(encoding="utf-8"))
    del catalogue["PaymentCommited"]
    (folder / "events.yaml").write_text(yaml.safe_dump(catalogue), encoding="utf-8")
    monkeypatch.setenv("TH_SCHEMAS_DIR", str(folder))
    assert "PaymentCommited" not in {spec.name for spec in SchemaRegistry.load().events()}


def test_a_new_version_is_found_next_to_the_old_one(tmp_path: Path) -> None:
    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, folder)
    v1 = json.loads((folder / "ManagerCreated" / "v0.json").read_text(encoding="utf-8"))
    v1["$id"] = "urn:teacher-hiring:event:ManagerCreated:v1"
    v1["properties"]["team"] = {"type": "string", "title": "Team", "description": "Team."}
    (folder / "ManagerCreated" / "v1.json").write_text(json.dumps(v1), encoding="utf-8")
    loaded = SchemaRegistry.load(folder)
    assert loaded.spec("ManagerCreated").versions == (0, 1)
    assert loaded.spec("ManagerCreated").latest_version == 1


def _write_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    path.write_text(json.dumps(schema), encoding="utf-8")


def _edit_catalogue(folder: Path, old: str, new: str) -> None:
    path = folder / "events.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


BREAKAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "a version missing in the middle": (
        lambda f: shutil.copy(f / "BonusAdded" / "v0.json", f / "BonusAdded" / "v2.json"),
        "BonusAdded/: versions must run from v0.json without gaps",
    ),
    "an event folder without v0": (
        lambda f: (f / "FineAdded" / "v0.json").rename(f / "FineAdded" / "v1.json"),
        "FineAdded/: versions must run from v0.json without gaps",
    ),
    "a named event without a folder": (
        lambda f: shutil.rmtree(f / "FineAdded"),
        "events.yaml: FineAdded has no folder FineAdded/",
    ),
    "a folder the catalogue does not name": (
        lambda f: shutil.copytree(f / "FineAdded", f / "FineRemoved"),
        "FineRemoved/: a schema folder that events.yaml does not name",
    ),
    "a stray file among the versions": (
        lambda f: shutil.copy(f / "BonusAdded" / "v0.json", f / "BonusAdded" / "latest.json"),
        "BonusAdded/latest.json: not a v<N>.json schema file",
    ),
    "a misspelt type": (
        lambda f: _write_json(
            f / "BonusAdded" / "v0.json",
            lambda s: s["properties"]["rating"].update(type="integr"),
        ),
        "BonusAdded/v0.json: not a valid draft 2020-12 schema",
    ),
    "a misspelt format": (
        lambda f: _write_json(
            f / "FineAdded" / "v0.json",
            lambda s: s["properties"]["occurred_at"].update(format="date_time"),
        ),
        "FineAdded/v0.json: not a valid draft 2020-12 schema",
    ),
    "another draft": (
        lambda f: _write_json(
            f / "ManagerCreated" / "v0.json",
            lambda s: s.update({"$schema": "http://json-schema.org/draft-07/schema#"}),
        ),
        "ManagerCreated/v0.json: $schema must be",
    ),
    "broken JSON": (
        lambda f: (f / "TaskRatingChanged" / "v0.json").write_text("{", encoding="utf-8"),
        "TaskRatingChanged/v0.json: not valid JSON",
    ),
    "a copied $id": (
        lambda f: shutil.copy(f / "ManagerCreated" / "v0.json", f / "ManagerCreated" / "v1.json"),
        "ManagerCreated/v1.json: $id must be urn:teacher-hiring:event:ManagerCreated:v1",
    ),
    "a partition key the payload lacks": (
        lambda f: _edit_catalogue(f, "key: manager_id", "key: owner_id"),
        "ManagerCreated/v0.json: the partition key owner_id must be a required field",
    ),
    "an unknown scope": (
        lambda f: _edit_catalogue(f, "scope: envelope", "scope: event"),
        "events.yaml: ExerciseCompletedMoreThenTenTimes: scope must be payload or envelope",
    ),
    "an unknown compatibility": (
        lambda f: _edit_catalogue(f, "compatibility: NONE", "compatibility: LOOSE"),
        "events.yaml: ManagerCreated: compatibility must be one of",
    ),
    "two producers on one topic": (
        lambda f: _edit_catalogue(f, "  topic: payments\n", "  topic: money\n"),
        "events.yaml: topic money has several producers (exercises, hiring)",
    ),
    "a catalogue entry without a topic": (
        lambda f: _edit_catalogue(f, "  topic: money\n", ""),
        "events.yaml: BonusAdded: missing topic",
    ),
    "no envelope schema": (
        lambda f: (f / "envelope.json").unlink(),
        "envelope: envelope.json is missing",
    ),
    "no catalogue": (
        lambda f: (f / "events.yaml").unlink(),
        "events.yaml: missing",
    ),
}


@pytest.mark.parametrize("case", list(BREAKAGES))
def test_load_refuses_a_broken_schema_folder(tmp_path: Path, case: str) -> None:
    breakage, expected = BREAKAGES[case]
    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, folder)
    breakage(folder)
    with pytest.raises(RegistryError) as caught:
        SchemaRegistry.load(folder)
    assert expected in str(caught.value)


def test_load_refuses_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="not a schema folder"):
        SchemaRegistry.load(tmp_path / "nowhere")
