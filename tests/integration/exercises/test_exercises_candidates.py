"""The candidate replica (COMM-090 variant 2): fed by hiring's events, never going backwards."""

from __future__ import annotations

from typing import Any

import pytest
from event_examples import example_envelope

from integration.exercises.exercises_support import Service
from teacher_hiring.exercises.entrypoints.consumers import CANDIDATES_GROUP
from teacher_hiring.foundation.sealing import new_key, seal

pytestmark = pytest.mark.integration

CANDIDATE = "c0ffee00-1234-4abc-8def-000000000042"


def created(at: str = "2025-03-14T09:00:00Z") -> dict[str, Any]:
    event = example_envelope("CandidateCreated")
    event["payload"].update(
        candidate_id=CANDIDATE,
        created_at=at,
        exercises_to_solve=[{"exercise_id": "e1"}, {"exercise_id": "e2"}],
    )
    return event


def updated(at: str, status: str, solved: list[str]) -> dict[str, Any]:
    event = example_envelope("CandidateUpdated")
    event["payload"].update(
        candidate_id=CANDIDATE,
        updated_at=at,
        status=status,
        exercises_solved=[{"exercise_id": e} for e in solved],
        exercises_to_solve=[{"exercise_id": e} for e in ("e1", "e2") if e not in solved],
    )
    return event


def replica(service: Service) -> list[dict[str, Any]]:
    return list(service.ok("GET", "/candidates"))


def test_created_then_updated_candidates_are_listed_without_calling_hiring(
    service: Service,
) -> None:
    service.send(created(), updated("2025-03-14T10:00:00Z", "candidate", ["e1"]))
    assert service.consume(CANDIDATES_GROUP) == 2

    [candidate] = replica(service)
    assert candidate["candidate_id"] == CANDIDATE
    assert candidate["name"] == "Ivan Sidorov"
    assert candidate["status"] == "candidate"
    assert candidate["exercises_solved"] == [{"exercise_id": "e1"}]
    assert candidate["exercises_to_solve"] == [{"exercise_id": "e2"}]
    assert candidate["created_at"] == "2025-03-14T09:00:00.000000Z"


def test_a_created_arriving_after_an_updated_does_not_take_the_candidate_back(
    service: Service,
) -> None:
    service.send(updated("2025-03-14T11:00:00Z", "teacher", ["e1", "e2"]))
    service.consume(CANDIDATES_GROUP)
    service.send(created())
    service.consume(CANDIDATES_GROUP)

    [candidate] = replica(service)
    assert candidate["status"] == "teacher"
    assert candidate["exercises_to_solve"] == []
    assert candidate["created_at"] == "2025-03-14T09:00:00.000000Z"  # only the unknown is filled


def test_an_older_update_arriving_late_changes_nothing(service: Service) -> None:
    newer = updated("2025-03-14T11:00:00Z", "teacher", ["e1", "e2"])
    older = updated("2025-03-14T10:00:00Z", "candidate", ["e1"])
    service.send(created(), newer, older)
    service.consume(CANDIDATES_GROUP)

    [candidate] = replica(service)
    assert candidate["status"] == "teacher"
    assert candidate["updated_at"] == "2025-03-14T11:00:00.000000Z"
    assert service.ok("GET", "/candidates", params={"status": "candidate"}) == []


def test_redelivered_candidate_events_change_nothing(service: Service) -> None:
    first = updated("2025-03-14T10:00:00Z", "candidate", ["e1"])
    service.send(created(), first)
    service.consume(CANDIDATES_GROUP)
    before = replica(service)

    service.send(first, created())
    assert service.consume(CANDIDATES_GROUP) == 2

    assert replica(service) == before


def erased(at: str = "2025-03-15T09:00:00Z") -> dict[str, Any]:
    event = example_envelope("CandidateErased")
    event["payload"].update(candidate_id=CANDIDATE, erased_at=at)
    return event


def test_a_name_sealed_by_hiring_is_kept_empty_in_the_replica(service: Service) -> None:
    event = created()
    event["payload"]["candidate_name"] = seal(new_key(), CANDIDATE, "Ivan Sidorov")
    service.send(event)
    service.consume(CANDIDATES_GROUP)
    [candidate] = replica(service)
    assert candidate["name"] == "" and candidate["exercises_to_solve"]


def test_an_erased_candidate_loses_the_name_for_good(service: Service) -> None:
    service.send(created(), erased())
    assert service.consume(CANDIDATES_GROUP) == 2
    [candidate] = replica(service)
    assert candidate["name"] == "(erased)"
    assert candidate["exercises_to_solve"] == [{"exercise_id": "e1"}, {"exercise_id": "e2"}]
    # An older event with the name in clear, replayed from the dead letters, brings none back.
    service.send(updated("2025-03-16T10:00:00Z", "teacher", ["e1", "e2"]), created())
    service.consume(CANDIDATES_GROUP)
    [candidate] = replica(service)
    assert candidate["name"] == "(erased)" and candidate["status"] == "teacher"


def test_an_erasure_arriving_first_keeps_the_later_creation_nameless(service: Service) -> None:
    service.send(erased(), created())
    service.consume(CANDIDATES_GROUP)
    [candidate] = replica(service)
    assert candidate["name"] == "(erased)"
    assert candidate["created_at"] == "2025-03-14T09:00:00.000000Z"
