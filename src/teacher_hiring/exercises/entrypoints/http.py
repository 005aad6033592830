"""HTTP routes: parse the request, call one handler or view, translate the result.

Domain errors travel up to the error handlers of runtime.http (mapped in entrypoints.errors).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Connection

from teacher_hiring.exercises.adapters import views
from teacher_hiring.exercises.domain import commands
from teacher_hiring.exercises.domain.errors import (
    UnknownAssignment,
    UnknownExercise,
    UnknownManager,
)
from teacher_hiring.exercises.domain.model import may_see_answers
from teacher_hiring.exercises.domain.reviews import Completion
from teacher_hiring.exercises.entrypoints import schemas
from teacher_hiring.exercises.entrypoints.deps import Services, ServicesDep
from teacher_hiring.exercises.service_layer import handlers
from teacher_hiring.exercises.service_layer.ports import ExercisesRepository
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.runtime import auth
from teacher_hiring.runtime.bad_requests import DB_INT_MAX, InvalidRequest
from teacher_hiring.runtime.origins import request_origin
from teacher_hiring.runtime.refresh_http import RefreshTokensDep
from teacher_hiring.runtime.tokens import SERVICE_NAMES, Claims, Role

Origin = Annotated[str | None, Depends(request_origin)]
"""Where the request came from (runtime.origins): the forwarded person's, or the client's."""
Limit = Annotated[int, Query(ge=1, le=10_000, description="Most items to return")]
Offset = Annotated[int, Query(ge=0, le=DB_INT_MAX, description="Items to skip")]

Shown = TypeVar("Shown", schemas.Exercise, schemas.ExerciseVersion)

Responses = dict[int | str, dict[str, Any]]
"""A route's documented refusals: status -> the body's model and what the status means."""


def _failed_call(meaning: str) -> Responses:
    """502, 503 and 504: a call this request made to another service failed."""
    names = {502: "ReceiverRefused", 503: "ReceiverUnavailable", 504: "ReceiverTimedOut"}
    return {
        status: {"model": schemas.Error, "description": f"{name}: {meaning}"}
        for status, name in names.items()
    }


_404: Responses = {404: {"model": schemas.Error, "description": "An id names nothing"}}
_409: Responses = {
    409: {"model": schemas.Error, "description": "The exercise moved on, or nobody to assign"}
}
_422: Responses = {
    422: {
        "model": schemas.Error | InvalidRequest,
        "description": "Nothing would change, or a value is refused",
    }
}
_CALLS = _failed_call(
    "the payment link is in sync mode and its call to bonus failed; the save is kept"
)
_LEAK_409: Responses = {
    409: {
        "model": schemas.Error,
        "description": "NoManagerToAssign, or LeakNotConfirmed: hiring, asked which version the "
        "report concerned, holds no leak by that candidate's completion",
    }
}
_ASKING_HIRING = _failed_call(
    "the report names no version and hiring, asked which one, could not say; nothing was "
    "opened, call again"
)

# Who may call what (docs/security.md): managers and operators read; a manager writes as
# themself; operators create and edit managers; hiring and bonus read what their links need.
STAFF_OR_SERVICE = Depends(auth.require(Role.manager, Role.operator, Role.service))

managers = APIRouter(prefix="/managers", tags=["managers"])
exercises = APIRouter(prefix="/exercises", tags=["exercises"])
assignments = APIRouter(
    prefix="/assignments", tags=["complication assignments"], dependencies=[auth.STAFF]
)
candidates = APIRouter(prefix="/candidates", tags=["candidates"], dependencies=[auth.STAFF])
reports = APIRouter(tags=["reports"], dependencies=[auth.OPERATOR])
legacy = APIRouter(prefix="/api", tags=["migration"], dependencies=[auth.SERVICE])


# -- managers ------------------------------------------------------------------------------------


@managers.post(
    "",
    status_code=201,
    response_model=schemas.CreatedManager,
    responses=_422,
    dependencies=[auth.OPERATOR],
)
def create_manager(
    body: schemas.NewManager,
    services: ServicesDep,
    tokens: auth.TokensDep,
    refresh: RefreshTokensDep,
) -> schemas.CreatedManager:
    """Create a manager (operators only); hiring and bonus learn of it from `ManagerCreated`.

    The answer carries the manager's `access_token`, their bearer token valid minutes, and a
    `refresh_token` to exchange for the next one at `POST /tokens/refresh` (docs/security.md),
    to be handed to them; they are shown this once.

    The old body `{name, email}` is still accepted: the name is split at its first run of
    whitespace into first_name and last_name, as the v0 -> v1 upcaster of the event does.
    """
    first_name, last_name = body.split()
    cmd = commands.CreateManager(first_name or "", last_name or "", body.email, body.team)
    versions = services.produced()
    with services.uow() as uow:
        manager = handlers.create_manager(cmd, uow, versions)
        uow.commit()
    token = tokens.access_token(Role.manager, manager.id, SERVICE_NAMES)
    return schemas.CreatedManager(
        **asdict(_manager(services, manager.id)),
        access_token=token,
        refresh_token=refresh.issue(Role.manager, manager.id),
    )


@managers.patch(
    "/{manager_id}",
    response_model=schemas.Manager,
    responses=_404 | _422,
    dependencies=[auth.OPERATOR],
)
def update_manager(
    manager_id: str, body: schemas.ManagerChanges, services: ServicesDep
) -> schemas.Manager:
    """Change a manager's name, team or email (operators only); publishes `ManagerUpdated`
    with the whole new state. The old full `name` is split as on creation; `team: null`
    removes the team.

    Sending the values the manager already has changes nothing and publishes nothing.
    """
    versions = services.produced()
    with services.uow() as uow:
        handlers.update_manager(body.command(manager_id), uow, versions)
        uow.commit()
    return schemas.Manager.model_validate(_manager(services, manager_id))


@managers.get("", response_model=list[schemas.Manager], dependencies=[auth.STAFF])
def list_managers(
    services: ServicesDep, limit: Limit = 1000, offset: Offset = 0
) -> list[schemas.Manager]:
    """Every manager, with the number of complication assignments each holds open."""
    with services.reading() as conn:
        rows = views.managers_list(conn, limit, offset)
    return [schemas.Manager.model_validate(row) for row in rows]


@managers.get(
    "/{manager_id}",
    response_model=schemas.Manager,
    responses=_404,
    dependencies=[STAFF_OR_SERVICE],
)
def get_manager(manager_id: str, services: ServicesDep) -> schemas.Manager:
    """One manager (COMM-010, COMM-070: hiring and bonus read managers here)."""
    return schemas.Manager.model_validate(_manager(services, manager_id))


def _manager(services: Services, manager_id: str) -> views.ManagerRow:
    with services.reading() as conn:
        found = views.manager(conn, manager_id)
    if found is None:
        raise UnknownManager("manager_id", manager_id)
    return found


# -- exercises -----------------------------------------------------------------------------------


@exercises.post(
    "",
    status_code=201,
    response_model=schemas.CreatedExercise,
    responses=_404,
    dependencies=[auth.STAFF],
)
def create_exercise(
    body: schemas.NewExercise, services: ServicesDep, caller: auth.ClaimsDep, origin: Origin
) -> schemas.CreatedExercise:
    """Create an exercise at version 1, status active; publishes `ExerciseCreated`.

    In push mode the exercise is delivered to hiring before this returns (`pushed`), so a
    candidate registering next can be assigned it; if hiring is down the exercise is created
    all the same and the relay keeps retrying.

    A manager writes as themself (`author_id` is their id); an operator for any manager.
    """
    auth.ensure_themself(caller, Role.manager, body.author_id, "author_id")
    versions = services.produced()
    with services.uow() as uow:
        created = handlers.create_exercise(body.command(), uow, versions)
        _note_origin(caller, origin, uow)
        uow.commit()
    pushed = services.push_now(created.created_event_id)
    return schemas.CreatedExercise(
        **asdict(_exercise(services, created.exercise.id)), pushed=pushed
    )


@exercises.get("", response_model=list[schemas.Exercise], dependencies=[auth.STAFF])
def list_exercises(
    services: ServicesDep,
    caller: auth.ClaimsDep,
    author_id: str | None = None,
    status: Literal["active", "needs_complication"] | None = None,
    limit: Limit = 1000,
    offset: Offset = 0,
) -> list[schemas.Exercise]:
    """Exercises, oldest first, optionally of one author or in one status.

    A manager sees the accepted answers of the exercises they may edit only (null elsewhere).
    """
    with services.reading() as conn:
        rows = views.exercises_list(conn, author_id, status, limit, offset)
        shown = _answers_shown(conn, caller)
    return [
        _answers_or_none(schemas.Exercise.model_validate(row), shown(row.id, row.author_id))
        for row in rows
    ]


@exercises.get(
    "/{exercise_id}",
    response_model=schemas.Exercise,
    responses=_404,
    dependencies=[STAFF_OR_SERVICE],
)
def get_exercise(
    exercise_id: str, services: ServicesDep, caller: auth.ClaimsDep
) -> schemas.Exercise:
    """The current version of an exercise, accepted answers included (COMM-020).

    For managers and services only: candidates are served by hiring, which never shows them.
    A manager sees the answers of an exercise they may edit only (its author, or the holder of
    its open complication assignment); for any other, `accepted_answers` is null.
    """
    found = _exercise(services, exercise_id)
    with services.reading() as conn:
        shown = _answers_shown(conn, caller)(found.id, found.author_id)
    return _answers_or_none(schemas.Exercise.model_validate(found), shown)


@exercises.get(
    "/{exercise_id}/versions",
    response_model=list[schemas.ExerciseVersion],
    responses=_404,
    dependencies=[auth.STAFF],
)
def exercise_versions(
    exercise_id: str, services: ServicesDep, caller: auth.ClaimsDep
) -> list[schemas.ExerciseVersion]:
    """Every saved version of the exercise, oldest first, with who saved it and when.

    The answers as `GET /exercises/{exercise_id}` shows them: null to a manager who may not
    edit the exercise.
    """
    with services.reading() as conn:
        history = views.exercise_history(conn, exercise_id)
        current = views.exercise(conn, exercise_id)
        if not history or current is None:
            raise UnknownExercise("exercise_id", exercise_id)
        shown = _answers_shown(conn, caller)(current.id, current.author_id)
    return [
        _answers_or_none(schemas.ExerciseVersion.model_validate(version), shown)
        for version in history
    ]


AnswersShown = Callable[[str, str], bool]
"""(exercise id, author id) -> whether the caller sees that exercise's accepted answers."""


def _answers_shown(conn: Connection, caller: Claims) -> AnswersShown:
    """Operators and services see every answer; a manager those of the exercises they may edit."""
    if caller.role is not Role.manager:
        return lambda _exercise_id, _author_id: True
    assigned = views.open_assignment_exercises(conn, caller.subject)
    return lambda exercise_id, author_id: may_see_answers(
        author_id, caller.subject, holds_open_assignment=exercise_id in assigned
    )


def _answers_or_none(reply: Shown, shown: bool) -> Shown:
    return reply if shown else reply.model_copy(update={"accepted_answers": None})


@exercises.put(
    "/{exercise_id}",
    response_model=schemas.SavedExercise,
    responses=_404 | _409 | _422 | _CALLS,
    dependencies=[auth.STAFF],
)
def edit_exercise(
    exercise_id: str,
    body: schemas.ExerciseEdit,
    services: ServicesDep,
    caller: auth.ClaimsDep,
    origin: Origin,
) -> schemas.SavedExercise:
    """Save a new version (version + 1) and publish `ExerciseUpdated` (US-030).

    If the editor holds an open complication assignment for this exercise, the save closes it
    and pays them once (`PaymentCommited`), in the same transaction. In push mode the new version
    is delivered to hiring before this returns (`pushed`); if hiring is down the save still
    succeeds and the relay keeps retrying. 409 if `expected_version` is not the current version,
    422 if nothing would change.

    With the payment link in sync mode (the old wiring) the payment is sent to bonus before
    this returns; if bonus fails the answer is 502, 503 or 504 naming bonus, the version is
    saved all the same and the payment waits in the outbox.

    A manager saves as themself (`editor_id` is their id), and only an exercise they wrote or
    whose open complication assignment they hold (403 otherwise); an operator for any manager.

    When most of the leaked completions came from the assignee's own candidates (registered by
    them, or from an address their own requests came from), the assignment closes but the
    payment is held for an operator's review (`held_review_ids`; docs/security.md).
    """
    auth.ensure_themself(caller, Role.manager, body.editor_id, "editor_id")
    versions = services.produced()
    with services.uow() as uow:
        _note_origin(caller, origin, uow)
        command = body.command(exercise_id, by_operator=caller.role is Role.operator)
        saved = handlers.edit_exercise(command, uow, services.rules, versions)
        uow.commit()
    pushed = services.push_now(saved.updated_event_id)
    if saved.payments:
        services.call_now(uow.staged, done="the new version is saved and its assignment closed")
    return schemas.SavedExercise(
        **asdict(_exercise(services, exercise_id)),
        pushed=pushed,
        closed_assignment_ids=list(saved.closed_assignment_ids),
        held_review_ids=[review.id for review in saved.held],
    )


def _note_origin(caller: Claims, origin: str | None, uow: UnitOfWork[ExercisesRepository]) -> None:
    """A manager's own request: remember its origin, in the request's transaction."""
    if caller.role is Role.manager:
        handlers.note_origin(caller.subject, origin, uow)


def _exercise(services: Services, exercise_id: str) -> views.ExerciseRow:
    with services.reading() as conn:
        found = views.exercise(conn, exercise_id)
    if found is None:
        raise UnknownExercise("exercise_id", exercise_id)
    return found


# -- complication assignments --------------------------------------------------------------------


@assignments.get("", response_model=list[schemas.Assignment])
def list_assignments(
    services: ServicesDep,
    caller: auth.ClaimsDep,
    assignee_id: str | None = None,
    status: Literal["open", "closed"] | None = None,
    limit: Limit = 1000,
    offset: Offset = 0,
) -> list[schemas.Assignment]:
    """Complication assignments, oldest first, optionally of one assignee or in one status.

    A manager sees their own only: without `assignee_id` it is theirs, another's is 403.
    """
    if caller.role is Role.manager:
        assignee_id = assignee_id or caller.subject
        auth.ensure_themself(caller, Role.manager, assignee_id, "assignee_id")
    with services.reading() as conn:
        rows = views.assignments_list(conn, assignee_id, status, limit, offset)
    return [schemas.Assignment.model_validate(row) for row in rows]


@assignments.get("/{assignment_id}", response_model=schemas.Assignment, responses=_404)
def get_assignment(
    assignment_id: str, services: ServicesDep, caller: auth.ClaimsDep
) -> schemas.Assignment:
    """One complication assignment; a manager sees their own only (another's is 403)."""
    with services.reading() as conn:
        found = views.assignment(conn, assignment_id)
    if found is None:
        raise UnknownAssignment("assignment_id", assignment_id)
    auth.ensure_themself(caller, Role.manager, found.assignee_id, "assignment_id")
    return schemas.Assignment.model_validate(found)


@legacy.post(
    "/complicate_exercise",
    response_model=schemas.ComplicationResult,
    responses=_404 | _LEAK_409 | _422 | _ASKING_HIRING,
)
def complicate_exercise(
    body: schemas.LeakReport, services: ServicesDep
) -> schemas.ComplicationResult:
    """The synchronous form of COMM-030, kept while the link migrates to the event.

    Does what `ExerciseCompletedMoreThenTenTimes` does: opens one complication assignment for
    the leaked version while it is the current one (`stale` once a later version replaced it).
    A report without `exercise_version` (the event's v0) has it read from hiring's record of
    the candidate's completion: 409 when hiring confirms no such leak, 502, 503 or 504 when
    hiring cannot say now (call again). With `event_id`, a report already applied here or
    from the event is not applied again.
    """
    version = body.exercise_version
    if version is None:  # asked before the transaction, which then holds no lock meanwhile
        version = services.leaks.leaked_version(body.exercise_id, body.candidate_id)
    cmd = commands.OpenComplicationAssignment(
        exercise_id=body.exercise_id,
        exercise_version=version,
        title=body.title,
        author_id=body.author_id,
        candidate_id=body.candidate_id,
        event_id=None if body.event_id is None else str(body.event_id),
        completed_by=None
        if body.completed_by is None
        else tuple(Completion(**item.model_dump()) for item in body.completed_by),
    )
    with services.uow() as uow:
        result = handlers.request_complication(cmd, uow, services.rules)
        uow.commit()
    return schemas.ComplicationResult.model_validate(result)


# -- candidates and reports ----------------------------------------------------------------------


@candidates.get("", response_model=list[schemas.Candidate])
def list_candidates(
    services: ServicesDep,
    status: Literal["candidate", "teacher"] | None = None,
    limit: Limit = 1000,
    offset: Offset = 0,
) -> list[schemas.Candidate]:
    """Candidates as hiring last published them (COMM-090 variant 2): never calls hiring."""
    with services.reading() as conn:
        rows = views.candidates_list(conn, status, limit, offset)
    return [schemas.Candidate.of(candidate) for candidate in rows]


@reports.get("/totals/issued", response_model=list[schemas.IssuedTotal])
def issued_totals(services: ServicesDep) -> list[schemas.IssuedTotal]:
    """Per manager, the complication payments issued: what the bonus ledger must hold."""
    with services.reading() as conn:
        rows = views.issued_totals(conn)
    return [schemas.IssuedTotal.model_validate(row) for row in rows]


ROUTERS = (managers, exercises, assignments, candidates, reports, legacy)
