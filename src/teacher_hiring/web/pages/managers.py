"""The managers' pages: their exercises, complication assignments, account and candidates."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web.auth import require_role

router = APIRouter(prefix="/manager", dependencies=[Depends(require_role(Role.manager))])
