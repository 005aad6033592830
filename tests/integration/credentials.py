"""Bearer tokens for the tests, minted with the secret the test session made (tests/conftest.py),
which the test services run on.

Clients act as an operator by default (`OPERATOR`), who may read everything and write what
the tests set up; a submission carries its candidate's token, a push or a synchronous call
the token of a service (docs/security.md).
"""

from __future__ import annotations

import os

from teacher_hiring.runtime.bearer import Bearer
from teacher_hiring.runtime.tokens import Role, Tokens

TOKENS = Tokens(os.environ["TEACHER_HIRING_AUTH_SECRET"])
TTL_S = 24 * 3600


def bearer(role: Role, subject: str | None = None) -> dict[str, str]:
    """The Authorization header of `role`, naming `subject` (by default the role itself)."""
    return {"Authorization": f"Bearer {TOKENS.mint(role, subject or role.value, TTL_S)}"}


def as_candidate(candidate_id: str) -> dict[str, str]:
    return bearer(Role.candidate, candidate_id)


def as_manager(manager_id: str) -> dict[str, str]:
    return bearer(Role.manager, manager_id)


OPERATOR = bearer(Role.operator)
SERVICE = bearer(Role.service, "tests")
AS_EXERCISES = bearer(Role.service, "exercises")
"""The exercises service: the only one whose pushes and payments are taken."""
AS_HIRING = bearer(Role.service, "hiring")
"""The hiring service: the only one whose bonuses and fines are taken."""
OPERATOR_AUTH = Bearer(lambda: OPERATOR["Authorization"].removeprefix("Bearer "))
"""For what takes an httpx.Auth (runtime.wiring.apply)."""
