"""Named errors of the exercises domain; the HTTP layer maps each class to a status once."""

from __future__ import annotations

from typing import Any


class ExercisesError(Exception):
    """Base of every rule broken in this service; `extra` goes into the HTTP error body."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra: dict[str, Any] = extra


class NotFound(ExercisesError):
    """An id that names nothing this service owns (404)."""

    def __init__(self, field: str, value: str, what: str) -> None:
        super().__init__(f"{field}: no {what} with id {value!r}", field=field)


class UnknownManager(NotFound):
    def __init__(self, field: str, value: str) -> None:
        super().__init__(field, value, "manager")


class UnknownExercise(NotFound):
    def __init__(self, field: str, value: str) -> None:
        super().__init__(field, value, "exercise")


class UnknownAssignment(NotFound):
    def __init__(self, field: str, value: str) -> None:
        super().__init__(field, value, "complication assignment")


class UnknownPaymentReview(NotFound):
    def __init__(self, field: str, value: str) -> None:
        super().__init__(field, value, "payment review")


class NotAllowed(ExercisesError):
    """The caller is known and may not do this (403)."""


class EditNotAllowed(NotAllowed):
    """Only the author, or the manager holding an open complication assignment of the
    exercise, saves a new version of it (operators may too)."""

    def __init__(self, exercise_id: str, editor_id: str) -> None:
        super().__init__(
            f"editor_id: manager {editor_id} may not edit exercise {exercise_id}: only its "
            "author or the manager holding its open complication assignment may (or an operator)",
            field="editor_id",
        )


class VersionConflict(ExercisesError):
    """The editor saw an older version than the current one (409), or lost a concurrent save."""

    def __init__(self, exercise_id: str, expected: int, current: int) -> None:
        super().__init__(
            f"expected_version: exercise {exercise_id} is at version {current}, not {expected}",
            field="expected_version",
            current_version=current,
        )


class NothingChanged(ExercisesError):
    """An edit that would save the same content again (422)."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        super().__init__(
            f"{', '.join(fields)}: nothing changed", field=fields[0] if fields else None
        )


class InvalidValue(ExercisesError):
    """A value the rules refuse (422); the HTTP models catch most of these before."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)


class LeakNotConfirmed(ExercisesError):
    """hiring holds no leak of the exercise by the named candidate's completion (409): a leak
    report whose version cannot be known opens nothing, and the event is retried, then kept
    with the dead letters for a person to look at."""

    def __init__(self, exercise_id: str, candidate_id: str, reason: str) -> None:
        super().__init__(
            f"candidate_id: hiring confirms no leak of exercise {exercise_id} by the completion "
            f"of candidate {candidate_id} ({reason})",
            field="candidate_id",
        )


class NoManagerToAssign(ExercisesError):
    """A leaked exercise needs an assignee and there is no manager at all (409; retried)."""

    def __init__(self) -> None:
        super().__init__("assignee_id: no manager exists to complicate the exercise")
