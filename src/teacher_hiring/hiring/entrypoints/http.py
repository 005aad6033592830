"""Hiring's HTTP routes: parse, call a handler or a view, translate the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Concatenate, Literal, ParamSpec, TypeVar

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection

from teacher_hiring.foundation.sql import read_only
from teacher_hiring.hiring.adapters import views
from teacher_hiring.hiring.domain import commands
from teacher_hiring.hiring.domain.errors import (
    CandidateNotFound,
    CompletionNotFound,
    EventRefused,
    ExerciseNotFound,
    TooManyRegistrations,
)
from teacher_hiring.hiring.entrypoints import schemas
from teacher_hiring.hiring.entrypoints.deps import Hiring, HiringDep, RawBody
from teacher_hiring.hiring.service_layer import handlers
from teacher_hiring.hiring.service_layer.results import SubmissionVerdict
from teacher_hiring.messaging.envelope import MalformedEvent
from teacher_hiring.messaging.registry import SchemaViolation
from teacher_hiring.messaging.wire import RecordCodec
from teacher_hiring.runtime import auth
from teacher_hiring.runtime.bad_requests import DB_INT_MAX
from teacher_hiring.runtime.http import RETRY_AFTER, pushed_event_body
from teacher_hiring.runtime.origins import request_origin
from teacher_hiring.runtime.refresh_http import RefreshTokensDep
from teacher_hiring.runtime.registration_limits import refusal_message
from teacher_hiring.runtime.tokens import SERVICE_NAMES, Role

IDEMPOTENCY_KEY_MAX = 200
P = ParamSpec("P")
T = TypeVar("T")

# Who may call what (docs/security.md): a candidate only for themself, and only they submit.
THE_CANDIDATE = Depends(auth.themself(Role.candidate, "candidate_id", also=()))
CANDIDATE_OR_OPERATOR = Depends(auth.themself(Role.candidate, "candidate_id"))
CANDIDATE_OR_STAFF = Depends(
    auth.themself(Role.candidate, "candidate_id", also=(Role.operator, Role.manager))
)

candidates = APIRouter(tags=["candidates"])
exercises = APIRouter(tags=["exercises"])
operations = APIRouter(tags=["reconciliation"])


def _error(description: str) -> dict[str, Any]:
    return {"description": description}


def _not_yet(description: str) -> dict[str, Any]:
    """A refusal that may lift by itself: it carries Retry-After (runtime.http)."""
    return {"description": description, "headers": RETRY_AFTER}


def _read(
    hiring: Hiring,
    view: Callable[Concatenate[Connection, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """What the view reads, on a read-only connection (a snapshot reader where there is one)."""
    with read_only(hiring.engine) as conn:
        return view(conn, *args, **kwargs)


def _one(
    hiring: Hiring,
    missing: Exception,
    view: Callable[Concatenate[Connection, P], T | None],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """What the view reads; `missing` (a not-found error) raised where it finds nothing."""
    found = _read(hiring, view, *args, **kwargs)
    if found is None:
        raise missing
    return found


async def _registration_allowed(request: Request, hiring: HiringDep) -> None:
    """The registration limits (docs/security.md), before the body is read."""
    limits = hiring.registration_limits
    refusal = None if limits is None else limits.take(request.client and request.client.host)
    if refusal is not None:
        raise TooManyRegistrations(refusal_message(refusal), refusal.retry_after_s)


def _no_candidate(candidate_id: str) -> CandidateNotFound:
    return CandidateNotFound(f"candidate_id: no candidate {candidate_id}")


@candidates.post(
    "/candidates",
    status_code=201,
    response_model=schemas.CandidateCreatedOut,
    responses={
        409: _not_yet(
            "NoExercisesAvailable: nothing can be assigned yet; exercises may still be on their "
            "way to hiring (Retry-After). EmailAlreadyRegistered: a candidate holds this email"
        ),
        422: _error(
            "A field out of bounds, or IdempotencyKeyReused: the key came with another body"
        ),
        429: {
            "description": "TooManyRegistrations: a registration limit, per client address or "
            "on everyone, is reached; Retry-After says when it lifts",
            "headers": RETRY_AFTER,
        },
    },
    dependencies=[Depends(_registration_allowed)],
)
def register_candidate(
    body: schemas.CandidateIn,
    hiring: HiringDep,
    tokens: auth.TokensDep,
    refresh: RefreshTokensDep,
    caller: auth.OptionalCallerDep,
    origin: Annotated[str | None, Depends(request_origin)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=IDEMPOTENCY_KEY_MAX,
            description="Sending the same body with the same key again answers the registration "
            "it made (its candidate, with a new token), registering nobody; another body with "
            "it is 422",
        ),
    ] = None,
) -> schemas.CandidateCreatedOut:
    """Register a candidate and assign them exercises to solve; open to anyone.

    Assigns up to `exercises_per_candidate` (3) exercises whose current version is not marked
    needs_complication, the least-completed first (ties by exercise id), of the candidate's
    `subject` only when one is given. When fewer exist, the candidate gets those; when none
    exists, 409 NoExercisesAvailable with a Retry-After header: hiring learns of exercises
    through events, so one written a moment ago may still be on its way (in the default push
    mode a creation delivers its exercise before it returns). Publishes CandidateCreated.

    One candidate per email, whatever its case (409 EmailAlreadyRegistered). A client that
    may send a registration again (a retry after a lost answer) sends an `Idempotency-Key`:
    the same key with the same body answers the registration it made, 201 with the same
    candidate and exercises and a token naming that candidate; with another body, 422 naming
    the header. Without a key, the same email again is 409, whatever the name: the answer
    carries a token, and a name and an email are no proof of who asks.

    The answer carries the candidate's `access_token`: their bearer token for every other
    route of theirs, valid minutes, and a `refresh_token` to exchange for the next one at
    `POST /tokens/refresh` (docs/security.md). They are shown this once.

    No token is needed. A manager's token marks the candidate as registered by that manager,
    and the registering client's address is kept as its origin (a keyed hash): the evidence
    a complication payment is checked against (docs/security.md, "Payments held for review").
    A token that does not verify is 401.
    """
    registered_by = caller.subject if caller is not None and caller.role is Role.manager else None
    cmd = commands.RegisterCandidate(
        name=body.name,
        email=body.email,
        subject=body.subject,
        idempotency_key=idempotency_key,
        registered_by=registered_by,
        origin=origin,
    )
    registered = handlers.register_candidate(cmd, hiring.uow(), hiring.rules)
    return schemas.CandidateCreatedOut(
        id=registered.id,
        name=registered.name,
        email=registered.email,
        subject=registered.subject,
        status=registered.status,
        exercises=[
            schemas.AssignedExercise.model_validate(exercise, from_attributes=True)
            for exercise in registered.exercises
        ],
        access_token=tokens.access_token(Role.candidate, registered.id, SERVICE_NAMES),
        refresh_token=refresh.issue(Role.candidate, registered.id),
    )


@candidates.get("/candidates", response_model=schemas.CandidatePage, dependencies=[auth.STAFF])
def list_candidates(
    hiring: HiringDep,
    status: Literal["candidate", "teacher"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=DB_INT_MAX)] = 0,
) -> schemas.CandidatePage:
    """Candidates, oldest first, optionally only those of one status (COMM-090, variant 1)."""
    page = _read(hiring, views.list_candidates, status=status, limit=limit, offset=offset)
    return schemas.CandidatePage.model_validate(page, from_attributes=True)


@candidates.get(
    "/candidates/{candidate_id}",
    response_model=schemas.CandidateDetail,
    responses={404: _error("CandidateNotFound")},
    dependencies=[CANDIDATE_OR_STAFF],
)
def get_candidate(candidate_id: str, hiring: HiringDep) -> schemas.CandidateDetail:
    """A candidate's status and assigned exercises, each with whether it is solved."""
    found = _one(hiring, _no_candidate(candidate_id), views.candidate, candidate_id)
    return schemas.CandidateDetail.model_validate(found, from_attributes=True)


@candidates.get(
    "/candidates/{candidate_id}/exercises",
    response_model=list[schemas.ExerciseToSolve],
    responses={404: _error("CandidateNotFound")},
    dependencies=[CANDIDATE_OR_OPERATOR],
)
def exercises_to_solve(candidate_id: str, hiring: HiringDep) -> list[schemas.ExerciseToSolve]:
    """The exercises a candidate must solve, at their current version; never the answers."""
    max_attempts = hiring.rules.max_attempts_per_version
    missing = _no_candidate(candidate_id)
    found = _one(hiring, missing, views.exercises_to_solve, candidate_id, max_attempts)
    return [schemas.ExerciseToSolve.model_validate(row, from_attributes=True) for row in found]


@candidates.post(
    "/candidates/{candidate_id}/submissions",
    response_model=schemas.SubmissionOut,
    responses={
        403: _error("ExerciseNotAssigned: the exercise is not one of this candidate's"),
        404: _error("CandidateNotFound or ExerciseNotFound"),
        409: _not_yet(
            "StaleExerciseVersion: not the current version; body has current_version. A newer "
            "one hiring has not received yet carries Retry-After"
        ),
        422: _error("AnswerTooLong, or a malformed body"),
        429: _error("AttemptLimitReached: every attempt at this version is used"),
        502: _error("ReceiverRefused: a link in sync mode got an error from exercises or bonus"),
        503: _error("ReceiverUnavailable: a link in sync mode cannot reach exercises or bonus"),
        504: _error("ReceiverTimedOut: a link in sync mode got no answer in time"),
    },
    dependencies=[THE_CANDIDATE],
)
async def submit_answer(
    candidate_id: str,
    body: schemas.SubmissionIn,
    hiring: HiringDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=IDEMPOTENCY_KEY_MAX,
            description="Sending the same key again returns the stored verdict, changing nothing",
        ),
    ] = None,
) -> SubmissionVerdict:
    """Check an answer at once, from hiring's own replica; never waits for another service.

    Unless an operator put links in sync mode (the old wiring, docs/runbooks/links.md): then
    the exercise is read from exercises first, and bonuses, fines and leak reports are sent to
    bonus and exercises before the answer; a failed call is 502, 503 or 504 naming the service
    (after the commit, with `submission_id`: the verdict is stored all the same).

    Checks in order: unknown candidate 404, unknown exercise 404, not assigned 403, a repeated
    Idempotency-Key (the stored response, replayed), an exercise already solved (its first
    correct verdict, replayed), a version other than the current one 409 with current_version
    (and Retry-After when it is newer: on its way to hiring), no attempts left at this version
    429. Then the verdict, the rating, the bonus or fine, the complication and the promotion to
    teacher are committed together with their events.
    """
    cmd = commands.SubmitAnswer(
        candidate_id=candidate_id,
        exercise_id=body.exercise_id,
        exercise_version=body.exercise_version,
        answer=body.answer,
        idempotency_key=idempotency_key,
    )
    calls = hiring.calling
    if calls is not None:
        # The old wiring (links in sync mode): the calls to exercises and bonus block, so in a
        # worker thread, like the synchronous client of the old service.
        return await run_in_threadpool(
            handlers.submit_answer, cmd, hiring.uow(), hiring.rules, calls, hiring.produced
        )
    if hiring.inline_writes:
        # On the event loop: about a millisecond of SQLite work on the service's single writer
        # connection, and the thread hop cost more than it saved.
        return handlers.submit_answer(cmd, hiring.uow(), hiring.rules, None, hiring.produced)
    # On PostgreSQL a submission makes several round trips and may wait for a row lock that
    # another instance holds: in a worker thread, so the event loop keeps serving meanwhile.
    return await run_in_threadpool(
        handlers.submit_answer, cmd, hiring.uow(), hiring.rules, None, hiring.produced
    )


@candidates.get(
    "/candidates/{candidate_id}/submissions",
    response_model=schemas.SubmissionHistory,
    responses={404: _error("CandidateNotFound")},
    dependencies=[CANDIDATE_OR_OPERATOR],
)
def submission_history(candidate_id: str, hiring: HiringDep) -> schemas.SubmissionHistory:
    """Every answer hiring stored for the candidate, with its verdict, oldest first.

    A verdict the candidate was given is here, whatever crashed after it was given; an answer
    sent again with its Idempotency-Key is here once. The answers themselves are not shown.
    """
    found = _one(hiring, _no_candidate(candidate_id), views.submissions_of, candidate_id)
    history = {"candidate_id": candidate_id, "items": found}
    return schemas.SubmissionHistory.model_validate(history, from_attributes=True)


@exercises.get("/exercises", response_model=schemas.ExercisePage, dependencies=[auth.STAFF])
def list_exercises(
    hiring: HiringDep,
    author_id: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Only this author's")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=DB_INT_MAX)] = 0,
) -> schemas.ExercisePage:
    """Exercises in hiring's replica at their current version, with its counters; no answers.

    With `author_id`, only that manager's: what their page shows of each (completions, rating,
    whether the current version leaked, `needs_complication`).
    """
    page = _read(hiring, views.list_exercises, author_id=author_id, limit=limit, offset=offset)
    return schemas.ExercisePage.model_validate(page, from_attributes=True)


@exercises.get(
    "/exercises/{exercise_id}/stats",
    response_model=schemas.ExerciseStats,
    responses={404: _error("ExerciseNotFound")},
    dependencies=[auth.STAFF],
)
def exercise_stats(exercise_id: str, hiring: HiringDep) -> schemas.ExerciseStats:
    """Per version: completions, attempted candidates, failed first attempts, rating, leaked."""
    missing = ExerciseNotFound(f"exercise_id: no exercise {exercise_id}")
    found = _one(hiring, missing, views.exercise_stats, exercise_id)
    return schemas.ExerciseStats.model_validate(found, from_attributes=True)


@exercises.get(
    "/exercises/{exercise_id}/completions/{candidate_id}",
    response_model=schemas.Completion,
    responses={404: _error("CompletionNotFound: the candidate has not solved the exercise")},
    dependencies=[auth.OPERATOR_OR_SERVICE],
)
def completion(exercise_id: str, candidate_id: str, hiring: HiringDep) -> schemas.Completion:
    """Which version of the exercise the candidate solved, and whether it leaked.

    How exercises learns which version a leak report of v0 concerned (it names the exercise
    and the candidate whose solution was the eleventh, not the version): from the records
    hiring made with the report, so that no clock of either service decides it.
    """
    missing = CompletionNotFound(
        f"candidate_id: candidate {candidate_id} has not solved exercise {exercise_id}",
        field="candidate_id",
    )
    found = _one(hiring, missing, views.completion, exercise_id, candidate_id)
    return schemas.Completion.model_validate(found, from_attributes=True)


@exercises.post(
    "/api/v0/exercise",
    response_model=schemas.PushResult,
    tags=["exercise link"],
    dependencies=[auth.SERVICE],
    responses={422: _error("Not an ExerciseCreated/ExerciseUpdated v0 or v1 envelope, or invalid")},
    openapi_extra=pushed_event_body("ExerciseCreated or ExerciseUpdated, v0 or v1"),
)
def receive_exercise(
    body: RawBody, request: Request, hiring: HiringDep, caller: auth.ClaimsDep
) -> schemas.PushResult:
    """The push end of the exercise link: the exercises service POSTs the event here.

    Claimed in the inbox under the same consumer name as the event consumer, so an update that
    arrives both by push and by the log is applied once; an older version never overwrites a
    newer one. `applied` is false for a duplicate or a version that is not newer. Only the
    exercises service (the producer) may push: another service's token is 403.
    """
    try:
        envelope = RecordCodec(hiring.registry).decode_http(body, request.headers)
        hiring.registry.validate(envelope.as_dict())
    except (MalformedEvent, SchemaViolation) as exc:
        # Only here is a schema violation the caller's fault; staged by hiring, it is a bug (500).
        raise EventRefused(str(exc), problem=type(exc).__name__) from exc
    producer = hiring.registry.spec(envelope.event_name).producer
    auth.ensure_producer(caller, envelope.event_name, producer)
    applied = handlers.receive_pushed_exercise(envelope, hiring.uow(), hiring.upcaster)
    return schemas.PushResult(applied=applied)


@operations.get("/totals/issued", response_model=schemas.IssuedTotals, dependencies=[auth.OPERATOR])
def issued_totals(hiring: HiringDep) -> schemas.IssuedTotals:
    """Per manager, the bonuses and fines hiring has issued, to compare with the ledger."""
    totals = _read(hiring, views.issued_totals)
    return schemas.IssuedTotals.model_validate({"items": totals}, from_attributes=True)


ROUTERS = (candidates, exercises, operations)
