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


@pytest.mark.parametrize("version", PRODUCIBLE_VERSIONS)
def test_each_producible_version_of_the_leak_report_is_valid(version: int) -> None:
    registry = SchemaRegistry.load()
    envelope = {**example_envelope(LEAK, version), "payload": leak_payload(EXERCISE, "c1", version)}
    registry.validate(envelope)
    assert FAMILIES == {"leak": (LEAK,)}
    assert version in registry.spec(LEAK).versions


def test_v1_names_the_leaked_version_and_v0_is_the_seeds() -> None:
    common = {"exercise_id": "e1", "title": "Sum", "author_id": "anna", "candidate_id": "c1"}
    assert leak_payload(EXERCISE, "c1", 1) == {**common, "exercise_version": 3}
    assert leak_payload(EXERCISE, "c1", 0) == common
