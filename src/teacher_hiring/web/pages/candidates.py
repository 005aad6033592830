"""The candidates' pages: their exercises, answering one (the verdict at once), their history.

Every page is the candidate's own: `/candidates/{id}/...` is refused (a 403 page) to anyone
but the candidate with that id. What a page shows comes from hiring's API, called as the
candidate; hiring never sends an accepted answer, and a page never echoes a correct one.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web.api import Calls, ExerciseToSolve, Refused, Verdict
from teacher_hiring.web.auth import CSRF, Person, require_role, require_self
from teacher_hiring.web.format import whole_number
from teacher_hiring.web.pages.common import calls_of
from teacher_hiring.web.rendering import render

router = APIRouter()

TheCandidate = Annotated[Person, Depends(require_self(Role.candidate, "candidate_id"))]
AnyCandidate = Annotated[Person, Depends(require_role(Role.candidate))]
FormText = Annotated[str, Form()]


def _calls(request: Request, person: Person) -> Calls:
    return calls_of(request, person)


@router.get("/candidate")
def candidate_home(person: AnyCandidate) -> RedirectResponse:
    """A signed-in candidate's home is their exercises."""
    return RedirectResponse(f"/candidates/{person.subject_id}", status_code=303)


@router.get("/candidates/{candidate_id}")
def exercises(request: Request, candidate_id: str, person: TheCandidate) -> Response:
    """The candidate's exercises: version, attempts left, solved or not; their status."""
    calls = _calls(request, person)
    candidate = calls.candidate(candidate_id)
    to_solve = calls.exercises_to_solve(candidate_id)
    context = {"title": "My exercises", "candidate": candidate, "exercises": to_solve}
    return render(request, "candidates/exercises.html", context)


def _exercise(calls: Calls, candidate_id: str, exercise_id: str) -> ExerciseToSolve | None:
    return next(
        (e for e in calls.exercises_to_solve(candidate_id) if e.exercise_id == exercise_id), None
    )


def _exercise_page(
    request: Request,
    person: Person,
    exercise: ExerciseToSolve,
    *,
    answer: str = "",
    verdict: Verdict | None = None,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "title": exercise.title,
        "exercise": exercise,
        "candidate_id": person.subject_id,
        "answer": answer,
        "verdict": verdict,
        "notice": notice,
        "errors": errors or {},
        "idempotency_key": str(uuid.uuid4()),
    }
    return render(request, "candidates/exercise.html", context, status_code=status_code)


def _missing(request: Request) -> Response:
    context = {
        "title": "Not found",
        "message": "This exercise is not one of yours.",
        "status": 404,
    }
    return render(request, "errors/error.html", context, status_code=404)


@router.get("/candidates/{candidate_id}/exercises/{exercise_id}")
def exercise(
    request: Request, candidate_id: str, exercise_id: str, person: TheCandidate
) -> Response:
    """One exercise: its statement at the current version, and the answer form."""
    found = _exercise(_calls(request, person), candidate_id, exercise_id)
    if found is None:
        return _missing(request)
    return _exercise_page(request, person, found)


@router.post("/candidates/{candidate_id}/exercises/{exercise_id}", dependencies=[CSRF])
def answer(
    request: Request,
    candidate_id: str,
    exercise_id: str,
    person: TheCandidate,
    answer: FormText = "",
    version: FormText = "",
    idempotency_key: FormText = "",
) -> Response:
    """Send the answer to hiring and show the verdict at once.

    A version changed meanwhile shows the new statement and asks again, keeping the answer
    typed; a correct answer is never written back into the page.
    """
    calls = _calls(request, person)
    number = whole_number(version)
    if not answer.strip() or number is None:
        found = _exercise(calls, candidate_id, exercise_id)
        if found is None:
            return _missing(request)
        if not answer.strip():
            errors = {"answer": "Write your answer first."}
            return _exercise_page(request, person, found, errors=errors, status_code=422)
        notice = "The page was missing the exercise's version: read the statement and answer."
        return _exercise_page(request, person, found, answer=answer, notice=notice, status_code=422)
    try:
        verdict = calls.submit(
            candidate_id, exercise_id, number, answer, idempotency_key[:200] or None
        )
    except Refused as exc:
        return _refused(request, person, calls, exercise_id, answer, exc)
    # hiring accepted the answer, so the exercise is the candidate's: its version as a page
    # last read it, with what the verdict says changed; hiring is read only if none did.
    shown = calls.api.seen(exercise_id, verdict.exercise_version) or _exercise(
        calls, candidate_id, exercise_id
    )
    if shown is None:
        return _missing(request)
    fresh = shown.model_copy(
        update={
            "version": verdict.exercise_version,
            "attempts_left": verdict.attempts_left,
            "solved": verdict.solved,
        }
    )
    return _exercise_page(
        request,
        person,
        fresh,
        answer="" if verdict.correct else answer,
        verdict=verdict,
        status_code=200,
    )


def _refused(
    request: Request,
    person: Person,
    calls: Calls,
    exercise_id: str,
    answer: str,
    exc: Refused,
) -> Response:
    """A refusal hiring explains becomes a message on the exercise's page; any other is the
    page of its status (403 not theirs, 404 no such exercise)."""
    explained = ("StaleExerciseVersion", "AttemptLimitReached")
    if exc.error not in explained and exc.status != 422:
        raise exc
    found = _exercise(calls, person.subject_id, exercise_id)
    if found is None:
        return _missing(request)
    if exc.error == "StaleExerciseVersion":
        notice = (
            f"This exercise changed while you were answering: it is now version "
            f"{found.version}. Read the new statement and answer again."
        )
        return _exercise_page(request, person, found, answer=answer, notice=notice, status_code=409)
    if exc.error == "AttemptLimitReached":
        errors = {"answer": "You have used every attempt at this version of the exercise."}
        return _exercise_page(request, person, found, errors=errors, status_code=429)
    errors = {"answer": f"Not accepted: {exc.message}"}
    return _exercise_page(request, person, found, answer=answer, errors=errors, status_code=422)


@router.get("/candidates/{candidate_id}/history")
def history(request: Request, candidate_id: str, person: TheCandidate) -> Response:
    """Every answer sent, with its verdict (never the answers), and when they became a teacher."""
    calls = _calls(request, person)
    candidate = calls.candidate(candidate_id)
    submissions = calls.submissions(candidate_id)
    titles = {e.exercise_id: e.title or e.exercise_id for e in candidate.exercises}
    context = {
        "title": "My history",
        "candidate": candidate,
        "submissions": list(reversed(submissions.items)),
        "titles": titles,
    }
    return render(request, "candidates/history.html", context)
