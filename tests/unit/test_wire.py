"""The record layout (messaging.wire): a body that is exactly what its schema describes, the
rest in CloudEvents headers; records of the earlier layout still read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import orjson
import pytest
from event_examples import EXAMPLE_PAYLOADS, example_envelope
from jsonschema import Draft202012Validator

from records_as_written import SCHEMAS, problems_of
from teacher_hiring.messaging.envelope import Envelope, MalformedEvent
from teacher_hiring.messaging.registry import SchemaRegistry, UnknownEvent
from teacher_hiring.messaging.wire import (
    RecordCodec,
    from_http_headers,
    headers_of,
    to_http_headers,
)

REGISTRY = SchemaRegistry.load()
CODEC = RecordCodec(REGISTRY)
SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "003_88c48a8206023cfc.txt"


def example(name: str, version: int) -> Envelope:
    return Envelope.from_dict(example_envelope(name, version))


@pytest.mark.parametrize(("name", "version"), sorted(EXAMPLE_PAYLOADS))
def test_every_event_body_validates_as_it_is_against_its_schema_file(
    name: str, version: int
) -> None:
    value, headers = CODEC.encode(example(name, version))
    assert problems_of(value, headers) == []


@pytest.mark.parametrize(("name", "version"), sorted(EXAMPLE_PAYLOADS))
def test_what_is_written_reads_back_as_the_same_event(name: str, version: int) -> None:
    event = example(name, version)
    assert CODEC.decode(*CODEC.encode(event)) == event


def test_a_payload_scoped_event_travels_as_its_bare_payload() -> None:
    event = example("BonusAdded", 0)
    value, headers = CODEC.encode(event)
    assert orjson.loads(value) == event.payload
    assert headers["ce_source"] == "hiring" and headers["ce_traceid"] == event.trace_id
    assert (headers["ce_id"], headers["ce_type"]) == (event.event_id, "BonusAdded")


def test_the_seeds_leak_event_travels_whole_without_producer_or_trace() -> None:
    event = example("ExerciseCompletedMoreThenTenTimes", 0)
    value, _ = CODEC.encode(event)
    body = orjson.loads(value)
    assert set(body) == {"event_id", "event_version", "event_name", "produced_at", "payload"}
    seed_schema = json.loads(
        (SCHEMAS / "ExerciseCompletedMoreThenTenTimes" / "v0.json").read_text()
    )
    assert Draft202012Validator(seed_schema).is_valid(body)
    assert not Draft202012Validator(seed_schema).is_valid(event.as_dict())  # the old layout


def test_the_seeds_two_schemas_are_in_the_registry_byte_for_byte() -> None:
    if not SEED.is_file():
        from missing_part import missing

        missing(f"the seed document {SEED}")
    blocks = re.findall(r"```\n(.*?)```", SEED.read_text(encoding="utf-8"), re.S)
    found = {json.loads(block)["title"]: block for block in blocks}
    assert set(found) == {"CandidateCreated", "ExerciseCompletedMoreThenTenTimes"}
    for name, block in found.items():
        assert (SCHEMAS / name / "v0.json").read_bytes() == block.encode("utf-8")
        assert REGISTRY.schema(name, 0) == json.loads(block)


@pytest.mark.parametrize(("name", "version"), [("BonusAdded", 0), ("ManagerCreated", 1)])
def test_a_record_of_the_earlier_layout_still_reads(name: str, version: int) -> None:
    event = example(name, version)
    legacy_headers = {"event_id": event.event_id, "event_name": name, "trace_id": event.trace_id}
    assert CODEC.decode(event.to_json(), legacy_headers) == event


def test_a_push_over_http_carries_the_attributes_as_ce_dash_headers() -> None:
    event = example("ExerciseUpdated", 1)
    value, headers = CODEC.encode(event)
    on_http = to_http_headers(headers)
    assert on_http["ce-id"] == event.event_id and on_http["content-type"] == "application/json"
    assert from_http_headers({k.upper(): v for k, v in on_http.items()})["ce_type"] == (
        "ExerciseUpdated"
    )
    assert CODEC.decode_http(value, on_http) == event


def test_headers_without_the_events_name_are_refused() -> None:
    event = example("BonusAdded", 0)
    value, headers = CODEC.encode(event)
    del headers["ce_type"]
    with pytest.raises(MalformedEvent, match="ce_type"):
        CODEC.decode(value, headers)


def test_a_version_the_registry_does_not_know_is_refused() -> None:
    event = example("BonusAdded", 0)
    value, headers = CODEC.encode(event)
    with pytest.raises(UnknownEvent):
        CODEC.decode(value, {**headers, "ce_eventversion": "99"})
    with pytest.raises(MalformedEvent, match="ce_eventversion"):
        CODEC.decode(value, {**headers, "ce_eventversion": "one"})


def test_a_whole_event_body_that_contradicts_its_headers_or_adds_fields_is_refused() -> None:
    event = example("ExerciseCompletedMoreThenTenTimes", 0)
    value, headers = CODEC.encode(event)
    with pytest.raises(MalformedEvent, match="event_id"):
        CODEC.decode(value, {**headers, "ce_id": "00000000-0000-4000-8000-000000000000"})
    extra = orjson.dumps({**orjson.loads(value), "producer": "hiring"})
    with pytest.raises(MalformedEvent, match="producer"):
        CODEC.decode(extra, headers)


def test_a_body_that_is_not_json_is_refused() -> None:
    headers = headers_of(example("BonusAdded", 0))
    with pytest.raises(MalformedEvent, match="not valid JSON"):
        CODEC.decode(b"{", headers)
