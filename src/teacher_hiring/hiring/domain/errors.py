"""Named errors of the hiring service; the HTTP layer maps them to status codes in one place."""

from __future__ import annotations

from typing import Any


class HiringError(Exception):
    """Base of every hiring error; `extra` fields are added to the JSON error body."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra: dict[str, Any] = extra


class CandidateNotFound(HiringError):
    pass


class ExerciseNotFound(HiringError):
    pass


class ExerciseNotAssigned(HiringError):
    """A candidate may only answer the exercises assigned to them."""


class NoExercisesAvailable(HiringError):
    """Nothing can be assigned: no exercise replicated yet, or every one needs complication."""


class StaleExerciseVersion(HiringError):
    """The answer names a version other than the current one (Problem-020); carries it."""


class AttemptLimitReached(HiringError):
    """The candidate used every attempt on this exercise version."""


class AnswerTooLong(HiringError):
    pass


class EventRefused(HiringError):
    """A pushed event hiring does not accept on that endpoint (wrong name or version)."""
