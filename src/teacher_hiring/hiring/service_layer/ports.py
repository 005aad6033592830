"""What hiring's handlers ask of storage, as a protocol its SQL repository implements.

The handlers see this shape only, through `UnitOfWork[Repository]`; `adapters.repository`'s
`HiringRepository` fills it on the unit of work's connection, and the entrypoints hand it in.
"""

from __future__ import annotations

from typing import Any, Protocol

from teacher_hiring.hiring.domain import commands
from teacher_hiring.hiring.domain.model import (
    AssignableExercise,
    CandidateSide,
    Exercise,
    NewSubmission,
    VersionStats,
)
from teacher_hiring.hiring.service_layer.results import Registration


class Repository(Protocol):
    """Hiring's storage inside one transaction: candidates, submissions and the replicas."""

    # -- candidates ----------------------------------------------------------------------------

    def assignable_exercises(
        self, limit: int, subject: str | None = None
    ) -> list[AssignableExercise]:
        """The least-completed assignable exercises, of `subject` only unless it is None."""
        ...

    def email_registered(self, email: str) -> bool:
        """Whether a candidate holds this email already (trimmed, case-insensitive)."""
        ...

    def registered_with_key(self, cmd: commands.RegisterCandidate) -> Registration | None:
        """The registration made with cmd's Idempotency-Key, as answered; None for a new key
        or none; IdempotencyKeyReused when the key came with another body."""
        ...

    def add_candidate(
        self, registered: Registration, at: float, cmd: commands.RegisterCandidate | None = None
    ) -> Registration | None:
        """A new candidate, with their exercises in the order they were assigned, and cmd's
        Idempotency-Key: None. The registration of a twin with that key that committed
        meanwhile: it, adding nothing. EmailAlreadyRegistered if another registration took
        the email meanwhile."""
        ...

    def assigned_exercise_ids(self, candidate_id: str) -> list[str]:
        """The candidate's exercises, in the order they were assigned."""
        ...

    def set_status(self, candidate_id: str, status: str, at: float) -> None: ...

    # -- personal data -------------------------------------------------------------------------

    def person_key(self, candidate_id: str, at: float) -> bytes:
        """The candidate's key sealing their name in events, made on first use."""
        ...

    def candidate_erased_at(self, candidate_id: str) -> tuple[bool, float | None]:
        """(whether the candidate exists, when they were erased); locks the candidate."""
        ...

    def erase_candidate(self, candidate_id: str, at: float) -> int:
        """Name, email and answers replaced, the key deleted; how many answers were erased."""
        ...

    # -- the submission path -------------------------------------------------------------------

    def candidate_side(
        self, candidate_id: str, exercise_id: str, version: int, idempotency_key: str | None
    ) -> CandidateSide | None:
        """What a submission needs of the candidate (None: no such candidate); the candidate
        stays locked until the commit."""
        ...

    def exercise_side(self, exercise_id: str) -> tuple[Exercise, VersionStats] | None:
        """The current version with its stats (None: no such exercise); the exercise stays
        locked until the commit."""
        ...

    def add_submission(self, submission: NewSubmission) -> None:
        """Record it; DuplicateSubmission when a twin with its idempotency key committed."""
        ...

    def count_attempt(
        self,
        candidate_id: str,
        exercise_id: str,
        version: int,
        *,
        attempts: int,
        first_attempt_failed: bool,
    ) -> None: ...

    def save_stats(self, exercise_id: str, version: int, stats: VersionStats) -> None: ...

    def set_rating_version(self, exercise_id: str, rating_version: int) -> None: ...

    def mark_solved(
        self, candidate_id: str, exercise_id: str, version: int, submission_id: str, at: float
    ) -> None:
        """DuplicateSubmission when a concurrent submission solved it first."""
        ...

    def completed_by(self, exercise_id: str, version: int, first: int) -> list[dict[str, Any]]:
        """The first `first` candidates who completed this version, in the order they did:
        `{candidate_id, registered_by, origin}` each (a leak report's evidence, v2)."""
        ...

    # -- replicas ------------------------------------------------------------------------------

    def replicated_version(self, exercise_id: str) -> int | None: ...

    def replicate_exercise(
        self, cmd: commands.ReplicateExercise, *, held: int | None, at: float
    ) -> bool:
        """Store the version as current with fresh stats; False if one as new is held."""
        ...

    def replicate_manager(self, cmd: commands.ReplicateManager, at: float) -> None: ...
