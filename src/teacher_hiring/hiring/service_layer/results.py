"""What hiring's handlers give back: small immutable records the HTTP layer answers with.

Their fields carry the names of the response bodies (entrypoints/schemas.py), so a route
returns them as they are and its `response_model` reads them by attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from teacher_hiring.foundation.records import from_mapping
from teacher_hiring.hiring.domain.model import AssignableExercise


@dataclass(frozen=True, slots=True)
class Registration:
    """A candidate just registered, with the exercises assigned to them."""

    id: str
    name: str
    email: str
    subject: str | None
    status: str
    exercises: tuple[AssignableExercise, ...]


@dataclass(frozen=True, slots=True)
class Erasure:
    """A candidate erased now, or already before (`already`: nothing changed this time)."""

    candidate_id: str
    erased_at: str
    already: bool
    answers_erased: int


@dataclass(frozen=True, slots=True)
class SubmissionVerdict:
    """The verdict on an answer; the stored first one when `replayed`.

    The fields are in the order of the stored response (orjson writes a dataclass field by
    field), so a verdict stored today reads back as one stored before.
    """

    submission_id: str
    exercise_id: str
    exercise_version: int
    correct: bool
    attempt: int
    attempts_left: int
    solved: bool
    candidate_status: str
    replayed: bool

    @classmethod
    def replay_of(cls, stored: Mapping[str, Any]) -> SubmissionVerdict:
        """The verdict as stored with the first submission, marked replayed."""
        return from_mapping(cls, stored, replayed=True)
