"""What callers ask the service to do, in the imperative; small immutable records."""

from __future__ import annotations

from dataclasses import dataclass

from teacher_hiring.exercises.domain.model import CheckMode


@dataclass(frozen=True)
class CreateManager:
    name: str
    email: str


@dataclass(frozen=True)
class UpdateManager:
    manager_id: str
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class CreateExercise:
    author_id: str
    title: str
    statement: str
    accepted_answers: tuple[str, ...]
    check_mode: CheckMode = "normalized"


@dataclass(frozen=True)
class EditExercise:
    """Save a new version; None means "keep as it is"."""

    exercise_id: str
    editor_id: str
    title: str | None = None
    statement: str | None = None
    accepted_answers: tuple[str, ...] | None = None
    check_mode: CheckMode | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class OpenComplicationAssignment:
    """An exercise was solved more than ten times and is assumed leaked.

    `reported_at` (epoch seconds) is when hiring saw the leak: a version saved after it was not
    the one that leaked. `event_id` is set when the request must be de-duplicated by id.
    """

    exercise_id: str
    title: str
    author_id: str
    candidate_id: str
    reported_at: float
    event_id: str | None = None
