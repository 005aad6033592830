"""The operators' pages: managers, the platform's live state, dead letters, reconciliation,
link modes and event versions."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web.auth import require_role

router = APIRouter(prefix="/operator", dependencies=[Depends(require_role(Role.operator))])
