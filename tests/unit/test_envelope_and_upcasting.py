"""The envelope on the wire, and reading old event versions through upcasters."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from teacher_hiring.messaging.envelope import ENVELOPE_FIELDS, Envelope, MalformedEvent
from teacher_hiring.messaging.upcasting import Upcaster


def test_a_new_envelope_carries_every_field_of_the_seed_business_event() -> None:
    envelope = Envelope.new("ManagerCreated", 0, {"manager_id": "m1"}, producer="exercises")
    data = envelope.as_dict()
    assert tuple(data) == ENVELOPE_FIELDS
    assert uuid.UUID(data["event_id"]).version == 4
    assert data["produced_at"].endswith("Z")
    assert data["producer"] == "exercises"
    assert len(data["trace_id"]) == 32


def test_an_envelope_survives_the_round_trip_through_json() -> None:
    envelope = Envelope.new("FineAdded", 0, {"amount_cents": 500}, producer="hiring", trace_id="t")
    assert Envelope.from_json(envelope.to_json()) == envelope


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"event_id": "x"}', "missing"),
    ],
)
def test_bytes_that_are_not_an_envelope_are_refused_with_the_reason(
    raw: bytes, message: str
) -> None:
    with pytest.raises(MalformedEvent, match=message):
        Envelope.from_json(raw)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("payload", [], "payload must be a JSON object"),
        ("event_version", "0", "event_version must be an integer"),
        ("event_version", True, "event_version must be an integer"),
        ("trace_id", 7, "trace_id must be a string"),
    ],
)
def test_envelope_fields_of_the_wrong_type_are_refused(
    field: str, value: Any, message: str
) -> None:
    data = Envelope.new("X", 0, {}, producer="p").as_dict()
    data[field] = value
    with pytest.raises(MalformedEvent, match=message):
        Envelope.from_json(orjson.dumps(data))


def _rename_name(payload: dict[str, Any]) -> dict[str, Any]:
    first, _, last = payload.pop("name").partition(" ")
    return {**payload, "first_name": first, "last_name": last}


def _add_team(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "team": payload.get("team", "unassigned")}


def test_an_old_payload_is_raised_step_by_step_keeping_the_event_identity() -> None:
    upcaster = Upcaster()
    upcaster.add("ManagerCreated", 0, _rename_name)
    upcaster.add("ManagerCreated", 1, _add_team)
    old = Envelope.new(
        "ManagerCreated", 0, {"manager_id": "m", "name": "Anna Petrova"}, producer="e"
    )
    new = upcaster.upcast(old, 2)
    assert new.event_version == 2
    assert new.payload == {
        "manager_id": "m",
        "first_name": "Anna",
        "last_name": "Petrova",
        "team": "unassigned",
    }
    assert (new.event_id, new.trace_id, new.produced_at) == (
        old.event_id,
        old.trace_id,
        old.produced_at,
    )
    assert old.payload == {"manager_id": "m", "name": "Anna Petrova"}, "the original is untouched"


def test_an_event_already_at_the_target_version_is_returned_as_it_is() -> None:
    envelope = Envelope.new("ManagerCreated", 1, {"manager_id": "m"}, producer="e")
    assert Upcaster().upcast(envelope, 1) is envelope


def test_a_missing_step_is_an_error_naming_it() -> None:
    envelope = Envelope.new("ManagerCreated", 0, {"manager_id": "m"}, producer="e")
    with pytest.raises(LookupError, match="ManagerCreated v0 -> v1"):
        Upcaster().upcast(envelope, 1)
