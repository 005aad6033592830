"""The leak report hiring builds, at each version it can produce, is valid in the registry."""

from __future__ import annotations

import pytest
from event_examples import example_envelope

from teacher_hiring.hiring.domain.model import Exercise
from teacher_hiring.hiring.service_layer.events import (
    FAMILIES,
    LEAK,
    PRODUCIBLE_VERSIONS,
    leak_payload,
)
from teacher_hiring.messaging.registry import SchemaRegistry

EXERCISE = Exercise("e1", "Sum", "anna", 3, ("5",), "exact")
COMPLETED_BY = [
    {"candidate_id": "c0", "registered_by": "anna", "origin": "0123456789abcdef0123456789abcdef"},
    {"candidate_id": "c1", "registered_by": None, "origin": None},
]


def completed_by() -> list[dict[str, object]]:
    return [dict(item) for item in COMPLETED_BY]


def not_asked() -> list[dict[str, object]]:
    raise AssertionError("v0 and v1 carry no completions: hiring does not read them")


@pytest.mark.parametrize("version", PRODUCIBLE_VERSIONS)
def test_each_producible_version_of_the_leak_report_is_valid(version: int) -> None:
    registry = SchemaRegistry.load()
    payload = leak_payload(EXERCISE, "c1", version, completed_by)
    envelope = {**example_envelope(LEAK, version), "payload": payload}
    registry.validate(envelope)
    assert FAMILIES == {"leak": (LEAK,)}
    assert version in registry.spec(LEAK).versions


def test_v2_names_who_completed_the_version_v1_the_leaked_version_and_v0_is_the_seeds() -> None:
    common = {"exercise_id": "e1", "title": "Sum", "author_id": "anna", "candidate_id": "c1"}
    assert leak_payload(EXERCISE, "c1", 2, completed_by) == {
        **common,
        "exercise_version": 3,
        "completed_by": COMPLETED_BY,
    }
    assert leak_payload(EXERCISE, "c1", 1, not_asked) == {**common, "exercise_version": 3}
    assert leak_payload(EXERCISE, "c1", 0, not_asked) == common
