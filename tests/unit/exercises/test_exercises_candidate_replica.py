"""The candidate replica never goes backwards, whatever order hiring's events arrive in."""

from __future__ import annotations

from dataclasses import replace

from teacher_hiring.exercises.domain.model import (
    CandidateSnapshot,
    merge_candidate_created,
    merge_candidate_updated,
)

CREATED = CandidateSnapshot(
    candidate_id="c1",
    name="Ivan",
    status="candidate",
    exercises_to_solve=("e1", "e2"),
    exercises_solved=(),
    created_at=100.0,
    updated_at=100.0,
)
BECAME_TEACHER = CandidateSnapshot(
    candidate_id="c1",
    name="Ivan",
    status="teacher",
    exercises_to_solve=(),
    exercises_solved=("e1", "e2"),
    created_at=None,
    updated_at=300.0,
)


def test_a_new_candidate_is_replicated_as_created() -> None:
    assert merge_candidate_created(None, CREATED) == CREATED


def test_an_update_replaces_an_older_state_and_keeps_the_creation_time() -> None:
    merged = merge_candidate_updated(CREATED, BECAME_TEACHER)
    assert merged == replace(BECAME_TEACHER, created_at=100.0)


def test_a_created_after_an_updated_only_fills_in_the_creation_time() -> None:
    merged = merge_candidate_created(BECAME_TEACHER, CREATED)
    assert merged == replace(BECAME_TEACHER, created_at=100.0)
    assert merge_candidate_created(merged, CREATED) is None


def test_an_older_update_never_replaces_a_newer_state() -> None:
    stored = replace(BECAME_TEACHER, created_at=100.0)
    older = replace(BECAME_TEACHER, status="candidate", exercises_solved=("e1",), updated_at=200.0)
    assert merge_candidate_updated(stored, older) is None


def test_a_created_for_a_known_candidate_changes_nothing() -> None:
    assert merge_candidate_created(CREATED, replace(CREATED, name="Someone else")) is None
