"""The operators' erasure of a candidate (docs/security.md, erasure).

Included in the operators' router (prefix /operator). Two POSTs, as every operator change:
the first shows whom the erasure concerns and asks to confirm; the second has hiring erase the
candidate's name, email and answers everywhere, then deletes their sign-in account here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web import staff_api
from teacher_hiring.web.api import Refused
from teacher_hiring.web.auth import CSRF, Person, accounts_of, require_role
from teacher_hiring.web.pages.common import calls_of, confirm_then_act, form_errors
from teacher_hiring.web.rendering import render

router = APIRouter(dependencies=[Depends(require_role(Role.operator))])

OperatorDep = Annotated[Person, Depends(require_role(Role.operator))]
TEMPLATE = "operators/erase.html"


@router.get("/erase")
def erase_page(request: Request, person: OperatorDep, candidate_id: str = "") -> Response:
    """The form: which candidate to erase."""
    context = {"title": "Erase a candidate", "candidate_id": candidate_id.strip()}
    return render(request, TEMPLATE, context)


@router.post("/erase", dependencies=[CSRF])
def erase(
    request: Request,
    person: OperatorDep,
    candidate_id: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Confirm first (the candidate's name, status and what goes), then erase."""
    wanted = candidate_id.strip()
    calls = calls_of(request, person)
    context: dict[str, Any] = {
        "title": "Erase a candidate",
        "candidate_id": wanted,
        "candidate": None,
        "done": None,
    }
    if not wanted:
        return form_errors(request, TEMPLATE, context, {"candidate_id": "A candidate's id."})

    def ask() -> dict[str, Any] | Response:
        try:
            found = calls.candidate(wanted)
        except Refused as exc:
            if exc.status != 404:
                raise
            errors = {"candidate_id": f"There is no candidate {wanted}."}
            return form_errors(request, TEMPLATE, context, errors, status_code=404)
        return context | {"candidate": found}

    def act() -> dict[str, Any]:
        done = staff_api.erase_candidate(calls, wanted)
        account = accounts_of(request).erase(Role.candidate, wanted)
        return context | {"done": done, "account_erased": account}

    return confirm_then_act(request, TEMPLATE, confirm, ask=ask, act=act)
