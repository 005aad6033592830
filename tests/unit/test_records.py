"""A record's fields are the columns or keys of their names, both ways (foundation.records)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from teacher_hiring.exercises.domain.model import CandidateSnapshot, Exercise
from teacher_hiring.foundation.records import columns_of, from_mapping, record_of

SNAPSHOT = CandidateSnapshot(
    candidate_id="c1",
    name="Anna",
    status="candidate",
    exercises_to_solve=("e1", "e2"),
    exercises_solved=(),
    created_at=1.5,
    updated_at=2.5,
)


def test_a_record_written_as_columns_reads_back_the_same() -> None:
    columns = columns_of(SNAPSHOT)

    assert columns["exercises_to_solve"] == ["e1", "e2"]  # a JSON column holds a list
    assert record_of(CandidateSnapshot, SimpleNamespace(**columns)) == SNAPSHOT


def test_columns_left_out_are_not_written() -> None:
    assert "candidate_id" not in columns_of(SNAPSHOT, without=["candidate_id"])


def test_a_given_field_is_not_read_from_the_row() -> None:
    row = SimpleNamespace(
        id="e1",
        author_id="anna",
        title="Sum",
        statement="What is 2 + 3?",
        accepted_answers=["5"],
        check_mode="exact",
        version=2,
        status="active",
        subject="mathematics",
        difficulty=4,
        created_at=1.0,  # a column the record has no field for
    )

    exercise = record_of(Exercise, row, title="Sum of two")

    assert exercise.title == "Sum of two"
    assert exercise.accepted_answers == ("5",)
    assert (exercise.version, exercise.subject) == (2, "mathematics")


@dataclass(frozen=True, slots=True)
class Verdict:
    submission_id: str
    attempt: int
    replayed: bool


def test_each_field_is_taken_under_its_name_and_other_keys_are_ignored() -> None:
    stored = {"attempt": 2, "submission_id": "s-1", "replayed": False, "answer": "42"}

    assert from_mapping(Verdict, stored) == Verdict("s-1", 2, False)


def test_a_given_value_stands_for_the_mappings_own_or_a_missing_one() -> None:
    assert from_mapping(Verdict, {"submission_id": "s-1", "attempt": 2}, replayed=True) == (
        Verdict("s-1", 2, True)
    )


def test_a_missing_field_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="attempt"):
        from_mapping(Verdict, {"submission_id": "s-1", "replayed": False})
