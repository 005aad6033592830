"""The candidates' pages: their exercises, answering one, their history."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web.auth import require_role

router = APIRouter()


@router.get("/candidate")
def candidate_home(request: Request) -> RedirectResponse:
    person = require_role(Role.candidate)(request)
    return RedirectResponse(f"/candidates/{person.subject_id}", status_code=303)
