"""Tokens across processes, on both deployments: what one service hands out another accepts,
and a forbidden call is refused by the service that receives it (docs/security.md)."""

from __future__ import annotations

import pytest

from e2e.platform_api import Api
from teacher_hiring.runtime.tokens import Role, Tokens

pytestmark = pytest.mark.e2e


def test_a_forbidden_call_is_refused_across_processes(api: Api) -> None:
    created = api.ok(
        "POST",
        "exercises",
        "/managers",
        json={"first_name": "Anna", "last_name": "Petrova", "email": "anna@school.example"},
    )
    manager, manager_token = created["id"], {"Authorization": f"Bearer {created['access_token']}"}
    exercise = api.exercise(manager, "5")
    api.hiring_knows([exercise])  # exercises pushed it to hiring with its service token
    registered = api.ok(
        "POST",
        "hiring",
        "/candidates",
        json={"name": "Ivan", "email": "ivan.security@mail.example"},
    )
    candidate = {"Authorization": f"Bearer {registered['access_token']}"}
    forged = Tokens("a-secret-that-is-not-the-platforms-32b").mint(Role.operator, "op", 600)

    as_candidate = [
        api.call("GET", "exercises", f"/exercises/{exercise}", headers=candidate).status_code,
        api.call("GET", "bonus", f"/accounts/{manager}", headers=candidate).status_code,
        api.call("GET", "bonus", "/operator/reconciliation", headers=candidate).status_code,
    ]
    strangers = [
        api.call("GET", "hiring", "/operator/links", headers={"Authorization": ""}).status_code,
        api.call(
            "GET", "bonus", "/ledger/totals", headers={"Authorization": f"Bearer {forged}"}
        ).status_code,
    ]
    own = api.call("GET", "bonus", f"/accounts/{manager}", headers=manager_token)
    solved = api.submit(registered["id"], exercise, 1, "5")

    assert as_candidate == [403, 403, 403]
    assert strangers == [401, 401]
    assert own.status_code in (200, 404), own.text  # bonus accepts what exercises handed out
    assert solved.status_code == 200 and solved.json()["correct"] is True
