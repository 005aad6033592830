"""What the views read, as immutable records; the routes map them to their response bodies.

Times are RFC 3339 text already (as every time leaves a service); the field names are the
response bodies' (entrypoints/schemas.py), so a schema reads a record by attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from teacher_hiring.hiring.domain.model import VersionStats

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, and how many items the whole list holds."""

    items: list[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class CandidateSummary:
    id: str
    name: str
    email: str
    subject: str | None
    status: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class CandidateExercise:
    """An exercise assigned to a candidate: its current version, and whether it is solved."""

    exercise_id: str
    title: str | None
    version: int | None
    solved: bool
    solved_version: int | None
    solved_at: str | None


@dataclass(frozen=True, slots=True)
class CandidateDetail(CandidateSummary):
    became_teacher_at: str | None
    """When the last of their exercises was solved, once they are a teacher."""
    exercises: list[CandidateExercise]


@dataclass(frozen=True, slots=True)
class ExerciseToSolve:
    """An assigned exercise at its current version, as the candidate sees it: no answers."""

    exercise_id: str
    title: str
    statement: str
    subject: str
    difficulty: int
    version: int
    solved: bool
    attempts_left: int


@dataclass(frozen=True, slots=True)
class SubmissionRecord:
    """A stored submission and its verdict, without the answer."""

    submission_id: str
    exercise_id: str
    exercise_version: int
    correct: bool
    attempt: int
    submitted_at: str


@dataclass(frozen=True, slots=True)
class ExerciseHeading:
    """What heads every account of an exercise in the replica."""

    exercise_id: str
    title: str
    subject: str
    difficulty: int
    author_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExerciseSummary(ExerciseHeading):
    """The current version, with its counters."""

    version: int
    check_mode: str
    updated_at: str
    completions: int
    rating: int
    rating_version: int
    needs_complication: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionStatsOf(VersionStats):
    """One version's counters."""

    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ExerciseStats(ExerciseHeading):
    current_version: int
    rating_version: int
    versions: list[VersionStatsOf]


@dataclass(frozen=True, slots=True)
class Completion:
    """Which version of the exercise the candidate solved, and whether that version leaked."""

    exercise_id: str
    candidate_id: str
    exercise_version: int
    leaked: bool


@dataclass(frozen=True, slots=True)
class ManagerTotals:
    """The bonuses and fines issued for one manager: their sums and counts."""

    manager_id: str
    bonus_cents: int = 0
    fine_cents: int = 0
    bonus_count: int = 0
    fine_count: int = 0
