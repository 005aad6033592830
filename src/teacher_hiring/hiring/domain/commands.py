"""What hiring is asked to do, in the imperative."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RegisterCandidate:
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class SubmitAnswer:
    candidate_id: str
    exercise_id: str
    exercise_version: int
    answer: str
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class ReplicateExercise:
    """Keep this version of an exercise, if it is newer than the one held."""

    exercise_id: str
    title: str
    statement: str
    accepted_answers: tuple[str, ...]
    check_mode: str
    author_id: str
    version: int
    status: str
    updated_at: str

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ReplicateExercise:
        """From an ExerciseCreated or ExerciseUpdated payload (edited_by is not kept)."""
        return cls(
            exercise_id=payload["exercise_id"],
            title=payload["title"],
            statement=payload["statement"],
            accepted_answers=tuple(payload["accepted_answers"]),
            check_mode=payload["check_mode"],
            author_id=payload["author_id"],
            version=payload["version"],
            status=payload["status"],
            updated_at=payload["updated_at"],
        )


@dataclass(frozen=True, slots=True)
class ReplicateManager:
    manager_id: str
    name: str
    email: str

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ReplicateManager:
        return cls(payload["manager_id"], payload["name"], payload["email"])
