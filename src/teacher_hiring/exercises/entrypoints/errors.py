"""The HTTP status of every error exercises answers with: the one place it is written.

Routes and handlers let a domain error travel up; runtime.http answers it with this status.
"""

from __future__ import annotations

from teacher_hiring.exercises.domain.errors import (
    ExercisesError,
    InvalidValue,
    LeakNotConfirmed,
    NoManagerToAssign,
    NotAllowed,
    NotFound,
    NothingChanged,
    VersionConflict,
)
from teacher_hiring.exercises.domain.reviews import ReviewAlreadyDecided
from teacher_hiring.runtime import event_versions as produced_versions
from teacher_hiring.runtime.http import ErrorMap
from teacher_hiring.runtime.link_calls import CALL_ERRORS

ERRORS: ErrorMap = {
    NotFound: 404,
    NotAllowed: 403,
    VersionConflict: 409,
    NoManagerToAssign: 409,
    LeakNotConfirmed: 409,
    ReviewAlreadyDecided: 409,
    NothingChanged: 422,
    InvalidValue: 422,
    ExercisesError: 400,
    **produced_versions.ERRORS,
    **CALL_ERRORS,
}
