"""foundation.records: a record read from a mapping by its field names."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from teacher_hiring.foundation.records import from_mapping


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
