"""The candidate replica's rule on erasure: the name goes, and no later state brings it back."""

from __future__ import annotations

from teacher_hiring.exercises.domain.model import (
    ERASED_NAME,
    CandidateSnapshot,
    erased_candidate,
    merge_candidate_created,
    merge_candidate_updated,
)


def snapshot(name: str = "Ivan Sidorov", updated_at: float = 10.0) -> CandidateSnapshot:
    return CandidateSnapshot("c1", name, "candidate", ("e1",), (), 5.0, updated_at)


def test_an_erasure_keeps_the_state_and_drops_the_name() -> None:
    erased = erased_candidate(snapshot(), "c1", 20.0)
    assert erased == snapshot(ERASED_NAME)


def test_a_second_erasure_writes_nothing() -> None:
    assert erased_candidate(snapshot(ERASED_NAME), "c1", 30.0) is None


def test_a_newer_state_after_an_erasure_keeps_the_name_erased() -> None:
    newer = CandidateSnapshot("c1", "Ivan Sidorov", "teacher", (), ("e1",), None, 40.0)
    merged = merge_candidate_updated(snapshot(ERASED_NAME), newer)
    assert merged is not None and merged.name == ERASED_NAME and merged.status == "teacher"


def test_a_creation_after_an_erasure_of_an_unseen_candidate_writes_no_name() -> None:
    stub = erased_candidate(None, "c1", 20.0)
    assert stub is not None and stub.name == ERASED_NAME
    merged = merge_candidate_created(stub, snapshot())
    assert merged is not None and merged.name == ERASED_NAME and merged.created_at == 5.0
