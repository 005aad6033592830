"""The HTTP status of every error hiring answers with: the one place it is written.

Routes and handlers let a domain error travel up; runtime.http answers it with this status.
"""

from __future__ import annotations

from teacher_hiring.hiring.domain.errors import (
    AnswerTooLong,
    AttemptLimitReached,
    CandidateNotFound,
    CompletionNotFound,
    EmailAlreadyRegistered,
    EventRefused,
    ExerciseNotAssigned,
    ExerciseNotFound,
    IdempotencyKeyReused,
    NoExercisesAvailable,
    StaleExerciseVersion,
    TooManyRegistrations,
)
from teacher_hiring.runtime import event_versions as produced_versions
from teacher_hiring.runtime.http import ErrorMap
from teacher_hiring.runtime.link_calls import CALL_ERRORS

ERRORS: ErrorMap = {
    CandidateNotFound: 404,
    CompletionNotFound: 404,
    ExerciseNotFound: 404,
    ExerciseNotAssigned: 403,
    NoExercisesAvailable: 409,
    EmailAlreadyRegistered: 409,
    IdempotencyKeyReused: 422,
    StaleExerciseVersion: 409,
    AttemptLimitReached: 429,
    TooManyRegistrations: 429,
    AnswerTooLong: 422,
    EventRefused: 422,
    **CALL_ERRORS,
    **produced_versions.ERRORS,
}
