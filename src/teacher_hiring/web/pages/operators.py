"""The operators' pages: managers, the platform's live state, dead letters, reconciliation,
link modes and event versions.

Every action that changes the platform takes two steps: the first POST shows what it will
change and asks for confirmation (a dry run where the service has one), the second, with
`confirm=yes`, does it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web import staff_api
from teacher_hiring.web.accounts.store import EmailTaken, normalized_email
from teacher_hiring.web.api import Refused
from teacher_hiring.web.auth import CSRF, Person, accounts_of, require_role, settings_of
from teacher_hiring.web.live import Rates, gather
from teacher_hiring.web.pages import erasure, operator_tools, payment_reviews
from teacher_hiring.web.pages.common import calls_of, form_errors, refused_fields, see_other
from teacher_hiring.web.pages.sign_in import first_visit_link
from teacher_hiring.web.rendering import render

router = APIRouter(prefix="/operator", dependencies=[Depends(require_role(Role.operator))])

OperatorDep = Annotated[Person, Depends(require_role(Role.operator))]
FormText = Annotated[str, Form()]


class ManagerForm(BaseModel):
    """The manager form as typed."""

    first_name: str = ""
    last_name: str = ""
    team: str = ""
    email: str = ""


ManagerFormDep = Annotated[ManagerForm, Form()]
MANAGER_FIELDS = tuple(ManagerForm.model_fields)


def _rates(request: Request) -> Rates:
    state = request.app.state
    if not hasattr(state, "live_rates"):
        state.live_rates = Rates()
    rates: Rates = state.live_rates
    return rates


# -- the live platform -------------------------------------------------------------------------


@router.get("")
def live_page(request: Request, person: OperatorDep) -> Response:
    """Each service up or down, events per second per topic, lag, backlog and dead letters.

    A plain page that is right when loaded; static/live.js refreshes its figures every 2 s
    from live.json.
    """
    state = gather(calls_of(request, person), _rates(request))
    return render(request, "operators/live.html", {"title": "Live platform", "live": state})


@router.get("/live.json")
def live_json(request: Request, person: OperatorDep) -> JSONResponse:
    """The same figures as the live page, for its script."""
    return JSONResponse(gather(calls_of(request, person), _rates(request)).as_json())


# -- managers ----------------------------------------------------------------------------------


@router.get("/managers")
def managers_page(request: Request, person: OperatorDep) -> Response:
    found = staff_api.managers(calls_of(request, person))
    accounts = accounts_of(request)
    signed_up = {m["id"]: accounts.by_subject(Role.manager, m["id"]) for m in found}
    context = {"title": "Managers", "managers": found, "accounts": signed_up}
    return render(request, "operators/managers.html", context)


@router.get("/managers/new")
def new_manager_form(request: Request, person: OperatorDep) -> Response:
    return render(request, "operators/manager_new.html", {"title": "New manager"})


def _manager_form(typed: ManagerForm) -> dict[str, str]:
    return {
        "first_name": typed.first_name.strip(),
        "last_name": typed.last_name.strip(),
        "team": typed.team.strip(),
        "email": normalized_email(typed.email),
    }


def _manager_errors(form: dict[str, str]) -> dict[str, str]:
    errors = {}
    if not form["first_name"]:
        errors["first_name"] = "A first name, please."
    if "@" not in form["email"] or "." not in form["email"].split("@")[-1]:
        errors["email"] = "An email address such as anna@school.example."
    return errors


@router.post("/managers/new", dependencies=[CSRF])
def create_manager(request: Request, person: OperatorDep, typed: ManagerFormDep) -> Response:
    """Create the manager in exercises, then their sign-in account with a first-visit link,
    shown on the answer once (only its hash is kept)."""
    form = _manager_form(typed)
    errors = _manager_errors(form)
    accounts = accounts_of(request)
    if not errors and accounts.email_taken(form["email"]):
        errors["email"] = "This email already has a sign-in account."
    if not errors:
        body: dict[str, Any] = {
            "first_name": form["first_name"],
            "last_name": form["last_name"],
            "email": form["email"],
        }
        if form["team"]:
            body["team"] = form["team"]
        try:
            created = staff_api.create_manager(calls_of(request, person), body)
        except Refused as exc:
            errors = refused_fields(exc, MANAGER_FIELDS)
        else:
            try:
                _account, token = accounts.invite(
                    email=form["email"],
                    role=Role.manager,
                    subject_id=created["id"],
                    name=created["name"],
                    ttl_s=settings_of(request).invitation_ttl_s,
                )
            except EmailTaken:
                errors = {"email": "This email already has a sign-in account."}
            else:
                link = first_visit_link(request, token)
                context = {"title": "Manager created", "manager": created, "link": link}
                return render(request, "operators/manager_created.html", context)
    context = {"title": "New manager", "form": form}
    return form_errors(request, "operators/manager_new.html", context, errors)


@router.get("/managers/{manager_id}")
def edit_manager_form(request: Request, person: OperatorDep, manager_id: str) -> Response:
    found = staff_api.manager(calls_of(request, person), manager_id)
    form = {field: found.get(field) or "" for field in MANAGER_FIELDS}
    context = {"title": f"Manager {found['name']}", "manager": found, "form": form}
    return render(request, "operators/manager_edit.html", context)


@router.post("/managers/{manager_id}", dependencies=[CSRF])
def edit_manager(
    request: Request, person: OperatorDep, manager_id: str, typed: ManagerFormDep
) -> Response:
    """Change the manager in exercises (ManagerUpdated); unchanged values change nothing."""
    calls = calls_of(request, person)
    found = staff_api.manager(calls, manager_id)
    form = _manager_form(typed)
    errors = _manager_errors(form)
    if not errors:
        body: dict[str, Any] = {
            "first_name": form["first_name"],
            "last_name": form["last_name"],
            "email": form["email"],
            "team": form["team"] or None,
        }
        try:
            staff_api.update_manager(calls, manager_id, body)
        except Refused as exc:
            if exc.status != 422 or "nothing" not in exc.message:
                errors = refused_fields(exc, MANAGER_FIELDS)
        if not errors:
            return see_other("/operator/managers")
    context = {"title": f"Manager {found['name']}", "manager": found, "form": form}
    return form_errors(request, "operators/manager_edit.html", context, errors)


@router.post("/managers/{manager_id}/link", dependencies=[CSRF])
def renew_link(request: Request, person: OperatorDep, manager_id: str) -> Response:
    """A new first-visit link for a manager (the previous one stops working)."""
    found = staff_api.manager(calls_of(request, person), manager_id)
    accounts = accounts_of(request)
    account = accounts.by_subject(Role.manager, manager_id)
    ttl_s = settings_of(request).invitation_ttl_s
    if account is None:
        account, token = accounts.invite(
            email=found["email"],
            role=Role.manager,
            subject_id=manager_id,
            name=found["name"],
            ttl_s=ttl_s,
        )
    else:
        token = accounts.renew_invitation(account.id, ttl_s)
    link = first_visit_link(request, token)
    context = {"title": "New first-visit link", "manager": found, "link": link}
    return render(request, "operators/manager_created.html", context)


@router.post("/managers/{manager_id}/revoke", dependencies=[CSRF])
def revoke_manager(request: Request, person: OperatorDep, manager_id: str) -> Response:
    """End the manager's sessions here and refuse their tokens on every service."""
    calls = calls_of(request, person)
    found = staff_api.manager(calls, manager_id)
    accounts = accounts_of(request)
    account = accounts.by_subject(Role.manager, manager_id)
    ended = accounts.end_sessions(account.id) if account is not None else 0
    missed = staff_api.revoke(calls, Role.manager, manager_id)
    context = {"title": f"Manager {found['name']}", "manager": found, "ended": ended}
    context["missed"] = missed
    return render(request, "operators/manager_revoked.html", context)


router.include_router(operator_tools.router)
router.include_router(erasure.router)
router.include_router(payment_reviews.router)
