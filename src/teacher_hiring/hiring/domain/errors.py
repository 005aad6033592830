"""Named errors of the hiring service; the HTTP layer maps them to status codes in one place."""

from __future__ import annotations

from typing import Any


class HiringError(Exception):
    """Base of every hiring error; `extra` fields are added to the JSON error body.

    `not_yet` marks a refusal that may lift by itself once events on their way arrive (hiring
    learns of exercises through events): the HTTP answer then says when to ask again.
    """

    not_yet: bool = False

    def __init__(self, message: str, *, not_yet: bool | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.extra: dict[str, Any] = extra
        if not_yet is not None:
            self.not_yet = not_yet


class EmailAlreadyRegistered(HiringError):
    """One candidate per email (409): registering again would give fresh attempts."""

    def __init__(self) -> None:
        super().__init__(
            "email: a candidate with this email (or another address of its mailbox, such as "
            "name+tag@) is already registered; use the token of that "
            "registration (the same request with its Idempotency-Key answers it again)",
            field="email",
        )


class IdempotencyKeyReused(HiringError):
    """A registration's Idempotency-Key sent again with another body (422): the key names one
    registration, and this is not it."""

    def __init__(self) -> None:
        super().__init__(
            "Idempotency-Key: this key was sent with another registration (another name, email "
            "or subject); send a new key for a new registration",
            field="Idempotency-Key",
        )


class TooManyRegistrations(HiringError):
    """A registration limit is reached (429, Retry-After: `retry_after_s`)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class CandidateNotFound(HiringError):
    pass


class ExerciseNotFound(HiringError):
    pass


class CompletionNotFound(HiringError):
    """The candidate has not solved the exercise (or either is unknown)."""


class ExerciseNotAssigned(HiringError):
    """A candidate may only answer the exercises assigned to them."""


class NoExercisesAvailable(HiringError):
    """Nothing can be assigned: no exercise replicated yet, or every one needs complication.

    Either may change without the candidate doing anything (an exercise or a new version on
    its way), so it is a "not yet".
    """

    not_yet = True


class StaleExerciseVersion(HiringError):
    """The answer names a version other than the current one (Problem-020); carries it. A
    newer one is a "not yet": hiring has not received it."""


class AttemptLimitReached(HiringError):
    """The candidate used every attempt on this exercise version."""


class AnswerTooLong(HiringError):
    pass


class EventRefused(HiringError):
    """A pushed event hiring does not accept on that endpoint (wrong name or version)."""


class DuplicateSubmission(Exception):
    """Another request stored a submission with the same key first (a concurrent duplicate).

    Raised by the repository that stores submissions; the handler answers with the verdict
    stored first. Not a HiringError: it never reaches the caller as such.
    """
