"""The managers' pages: their exercises, complication assignments, account and candidates.

Every page is the signed-in manager's own: an exercise they neither wrote nor hold an open
assignment for is a 403 page, whatever its address. A save names the version the manager
started from; when another save came first, the page shows both versions, the manager's text
kept in the form.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel

from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web import staff_api
from teacher_hiring.web.api import Calls, Refused
from teacher_hiring.web.auth import CSRF, Forbidden, Person, require_role
from teacher_hiring.web.charts import balance_figure
from teacher_hiring.web.format import whole_number
from teacher_hiring.web.pages.common import calls_of, form_errors, refused_fields, see_other
from teacher_hiring.web.rendering import render

router = APIRouter(prefix="/manager", dependencies=[Depends(require_role(Role.manager))])

ManagerDep = Annotated[Person, Depends(require_role(Role.manager))]
FormText = Annotated[str, Form()]
FIELDS = tuple(staff_api.ExerciseText.model_fields)
"""The exercise form's fields, those a service's refusal may name."""
ENTRIES_PER_PAGE = 20


class ExerciseForm(BaseModel):
    """The exercise form as typed, each field as text (to show it again beside its error)."""

    title: str = ""
    statement: str = ""
    accepted_answers: str = ""
    check_mode: str = "normalized"
    subject: str = "general"
    difficulty: str = "3"


ExerciseFormDep = Annotated[ExerciseForm, Form()]


# -- exercises ---------------------------------------------------------------------------------


@router.get("")
def exercises_page(request: Request, person: ManagerDep, saved: str | None = None) -> Response:
    """The manager's exercises with their version, completions, rating and leak."""
    calls = calls_of(request, person)
    mine = staff_api.my_exercises(calls, person.subject_id)
    open_assignments = staff_api.my_assignments(calls, person.subject_id)
    context = {
        "title": "My exercises",
        "exercises": mine,
        "assignments": open_assignments,
        "saved": _saved_message(saved, mine),
    }
    return render(request, "managers/exercises.html", context)


def _saved_message(saved: str | None, mine: list[staff_api.MyExercise]) -> str | None:
    """What the last save did, from the `saved` the redirect after it carries."""
    if not saved:
        return None
    exercise_id, _, rest = saved.partition(":")
    title = next((m.exercise.title for m in mine if m.exercise.id == exercise_id), "The exercise")
    if not rest:
        return f"“{title}” is created at version 1."
    version, _, closed = rest.partition(":")
    message = f"“{title}” is saved as version {version}."
    count = whole_number(closed) or 0
    if count > 0:
        message += (
            f" It closed {count} complication assignment{'s' if count > 1 else ''}: "
            "the payment is on its way to your account."
        )
    return message


@router.get("/exercises/new")
def new_exercise_form(request: Request, person: ManagerDep) -> Response:
    form = ExerciseForm().model_dump()
    return render(request, "managers/exercise_new.html", {"title": "New exercise", "form": form})


@router.post("/exercises/new", dependencies=[CSRF])
def create_exercise(request: Request, person: ManagerDep, typed: ExerciseFormDep) -> Response:
    form = typed.model_dump()
    body, errors = _exercise_body(form)
    if not errors:
        body["author_id"] = person.subject_id
        try:
            created = staff_api.create_exercise(calls_of(request, person), body)
        except Refused as exc:
            errors = refused_fields(exc, FIELDS, short=True)
        else:
            return see_other(f"/manager?saved={created.id}")
    context = {"title": "New exercise", "form": form}
    return form_errors(request, "managers/exercise_new.html", context, errors)


def _exercise_body(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The API body of the form's values, and what is wrong with them, by field."""
    errors: dict[str, str] = {}
    answers = [line.strip() for line in form["accepted_answers"].splitlines() if line.strip()]
    if not form["title"].strip():
        errors["title"] = "A title, please."
    if not form["statement"].strip():
        errors["statement"] = "The text candidates will see, please."
    if not answers:
        errors["accepted_answers"] = "At least one accepted answer, one per line."
    if form["check_mode"] not in ("exact", "normalized"):
        errors["check_mode"] = "Exact or normalized."
    difficulty = whole_number(form["difficulty"])
    if difficulty is None or not 1 <= difficulty <= 5:
        errors["difficulty"] = "From 1 (easiest) to 5 (hardest)."
    body: dict[str, Any] = {
        "title": form["title"].strip(),
        "statement": form["statement"],
        "accepted_answers": answers,
        "check_mode": form["check_mode"],
        "subject": form["subject"].strip().lower() or "general",
        "difficulty": 3 if difficulty is None else difficulty,
    }
    return body, errors


def _editable(calls: Calls, person: Person, exercise_id: str) -> staff_api.Exercise:
    """The exercise, if the manager wrote it or holds an open assignment for it."""
    found = staff_api.exercise(calls, exercise_id)
    if found.author_id == person.subject_id:
        return found
    assigned = staff_api.my_assignments(calls, person.subject_id)
    if any(a.exercise_id == exercise_id for a in assigned):
        return found
    raise Forbidden("This exercise is another manager's.")


def _as_form(found: staff_api.ExerciseText) -> dict[str, str]:
    return {
        "title": found.title,
        "statement": found.statement,
        "accepted_answers": "\n".join(found.accepted_answers or ()),
        "check_mode": found.check_mode,
        "subject": found.subject,
        "difficulty": str(found.difficulty),
    }


@router.get("/exercises/{exercise_id}")
def edit_exercise_form(request: Request, person: ManagerDep, exercise_id: str) -> Response:
    """The current version in a form; saving it makes the next version."""
    calls = calls_of(request, person)
    found = _editable(calls, person, exercise_id)
    context = _edit_context(calls, person, found)
    context["form"] = _as_form(found)
    return render(request, "managers/exercise_edit.html", context)


def _edit_context(calls: Calls, person: Person, found: staff_api.Exercise) -> dict[str, Any]:
    assigned = [
        a for a in staff_api.my_assignments(calls, person.subject_id) if a.exercise_id == found.id
    ]
    return {
        "title": f"Edit: {found.title}",
        "exercise": found,
        "expected_version": found.version,
        "assignments": assigned,
        "conflict": None,
    }


@router.post("/exercises/{exercise_id}", dependencies=[CSRF])
def save_exercise(
    request: Request,
    person: ManagerDep,
    exercise_id: str,
    typed: ExerciseFormDep,
    expected_version: FormText = "",
) -> Response:
    """Save a new version from the version the manager started from.

    Another save in between: the page shows that version beside the manager's own text, which
    stays in the form; saving again builds on the newer version.
    """
    calls = calls_of(request, person)
    found = _editable(calls, person, exercise_id)
    form = typed.model_dump()
    body, errors = _exercise_body(form)
    context = _edit_context(calls, person, found)
    context["form"] = form
    started_from = whole_number(expected_version) or found.version
    context["expected_version"] = started_from
    if not errors:
        body |= {"editor_id": person.subject_id, "expected_version": started_from}
        try:
            saved = staff_api.save_exercise(calls, exercise_id, body)
        except Refused as exc:
            if exc.status == 409 and exc.error == "VersionConflict":
                found = staff_api.exercise(calls, exercise_id)
                context |= {"conflict": found, "expected_version": found.version}
                errors = {"form": _conflict_message(started_from, found.version)}
            else:
                errors = refused_fields(exc, FIELDS, short=True)
        else:
            closed = len(saved.get("closed_assignment_ids", []))
            outcome = f"{exercise_id}:{saved['version']}:{closed}"
            return see_other(f"/manager?saved={outcome}")
    return form_errors(request, "managers/exercise_edit.html", context, errors)


def _conflict_message(started: int, current: int) -> str:
    return (
        f"You started from version {started}, but version {current} was saved meanwhile. "
        f"Your text is kept below, beside version {current}: compare them, then save again "
        f"to make version {current + 1}."
    )


# -- assignments -------------------------------------------------------------------------------


@router.get("/assignments")
def assignments_page(request: Request, person: ManagerDep) -> Response:
    """Open complication assignments, each with the edit that closes it."""
    calls = calls_of(request, person)
    found = staff_api.my_assignments(calls, person.subject_id, status=None)
    titles = {
        mine.exercise.id: mine.exercise.title
        for mine in staff_api.my_exercises(calls, person.subject_id)
    }
    context = {
        "title": "Complication assignments",
        "open": [a for a in found if a.status == "open"],
        "closed": [a for a in found if a.status == "closed"][-10:],
        "titles": titles,
    }
    return render(request, "managers/assignments.html", context)


# -- account -----------------------------------------------------------------------------------


def _month(today: date) -> tuple[str, str]:
    start = today.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start.isoformat(), end.isoformat()


@router.get("/account")
def account_page(
    request: Request,
    person: ManagerDep,
    start: str | None = None,
    end: str | None = None,
    page: int = 1,
) -> Response:
    """Balance, the balance over time, a statement for a chosen period, and the entries."""
    calls = calls_of(request, person)
    found = staff_api.account(calls, person.subject_id)
    default_start, default_end = _month(datetime.now(UTC).date())
    period = {"start": start or default_start, "end": end or default_end}
    context: dict[str, Any] = {
        "title": "My account",
        "account": found,
        "form": period,
        "statement": None,
        "entries": None,
        "chart": None,
        "page": max(1, page),
    }
    if found is None:
        return render(request, "managers/account.html", context)
    history = staff_api.balance_history(calls, person.subject_id)
    context["chart"] = balance_figure(history["points"], total=history["total"])
    offset = (context["page"] - 1) * ENTRIES_PER_PAGE
    context["entries"] = staff_api.entries(calls, person.subject_id, ENTRIES_PER_PAGE, offset)
    try:
        context["statement"] = staff_api.statement(
            calls, person.subject_id, period["start"], period["end"]
        )
    except Refused as exc:
        if exc.status != 422:
            raise
        return form_errors(request, "managers/account.html", context, _period_errors(exc))
    return render(request, "managers/account.html", context)


def _period_errors(exc: Refused) -> dict[str, str]:
    field = str(exc.body.get("field") or "")
    if isinstance(exc.detail, list):
        for item in exc.detail:
            loc = [str(part) for part in item.get("loc", [])] if isinstance(item, dict) else []
            field = next((part for part in loc if part in ("start", "end")), field)
    message = exc.message.split(": ", 1)[-1]
    if field not in ("start", "end"):
        field = "start"
    return {field: f"A day as YYYY-MM-DD; the end after the start ({message})."}


# -- candidates --------------------------------------------------------------------------------


@router.get("/candidates")
def candidates_page(request: Request, person: ManagerDep, status: str | None = None) -> Response:
    """Candidates and teachers, as exercises' replica holds them."""
    wanted = status if status in ("candidate", "teacher") else None
    found = staff_api.candidates(calls_of(request, person), wanted)
    context = {"title": "Candidates", "candidates": found, "status": wanted}
    return render(request, "managers/candidates.html", context)
