"""What callers ask the service to do, in the imperative; small immutable records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from teacher_hiring.exercises.domain.model import (
    CONTENT_FIELDS,
    DEFAULT_DIFFICULTY,
    DEFAULT_SUBJECT,
    KEEP,
    CheckMode,
    Keep,
)
from teacher_hiring.exercises.domain.reviews import Completion, ReviewStatus


@dataclass(frozen=True)
class CreateManager:
    """The new manager's fields, all but the id the service gives them."""

    first_name: str
    last_name: str
    email: str
    team: str | None = None


@dataclass(frozen=True)
class UpdateManager:
    """Change a manager; None (KEEP for the team, which may be set to None) keeps a field."""

    manager_id: str
    first_name: str | None = None
    last_name: str | None = None
    team: str | Keep | None = KEEP
    email: str | None = None


@dataclass(frozen=True)
class CreateExercise:
    """The new exercise's fields, all but the id the service gives it (and its first version
    and status, which every new exercise starts with)."""

    author_id: str
    title: str
    statement: str
    accepted_answers: tuple[str, ...]
    check_mode: CheckMode = "normalized"
    subject: str = DEFAULT_SUBJECT
    difficulty: int = DEFAULT_DIFFICULTY


@dataclass(frozen=True)
class EditExercise:
    """Save a new version; None means "keep as it is"."""

    exercise_id: str
    editor_id: str
    title: str | None = None
    statement: str | None = None
    accepted_answers: tuple[str, ...] | None = None
    check_mode: CheckMode | None = None
    subject: str | None = None
    difficulty: int | None = None
    expected_version: int | None = None
    by_operator: bool = False
    """An operator saves for `editor_id`: the rule of who may edit does not apply."""

    def changes(self) -> dict[str, Any]:
        """The content fields, by name, as `Exercise.revised` takes them (None: keep)."""
        return {name: getattr(self, name) for name in CONTENT_FIELDS}


@dataclass(frozen=True)
class OpenComplicationAssignment:
    """Version `exercise_version` of an exercise was solved more than ten times and is assumed
    leaked. `event_id` is set when the request must be de-duplicated by id."""

    exercise_id: str
    exercise_version: int
    title: str
    author_id: str
    candidate_id: str
    event_id: str | None = None
    completed_by: tuple[Completion, ...] | None = None
    """The candidates whose completions counted (v2); None when the report names none."""


@dataclass(frozen=True)
class DecidePayment:
    """An operator's decision on a held complication payment: approve (it is paid then, once)
    or reject (never paid; `reason` says why)."""

    review_id: str
    decision: ReviewStatus
    decided_by: str
    reason: str | None = None
