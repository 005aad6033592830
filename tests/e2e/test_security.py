"""Tokens across processes, on both deployments: what one service hands out another accepts,
and a forbidden call is refused by the service that receives it (docs/security.md)."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from e2e.platform_api import Api
from teacher_hiring.cli import app as cli
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


def test_a_revoked_manager_is_refused_by_every_service_and_their_refresh_too(api: Api) -> None:
    created = api.ok(
        "POST",
        "exercises",
        "/managers",
        json={"first_name": "Boris", "last_name": "Ivanov", "email": "boris@school.example"},
    )
    manager = created["id"]
    token = {"Authorization": f"Bearer {created['access_token']}"}
    reads = {
        "exercises": f"/managers/{manager}",
        "hiring": "/candidates",
        "bonus": "/ratings",
    }
    before = {
        name: api.call("GET", name, path, headers=token).status_code for name, path in reads.items()
    }
    urls = [f"--{name}-url={api.url(name, '')}" for name in reads]

    revoked = CliRunner().invoke(cli, ["token", "revoke", "manager", manager, *urls])

    assert revoked.exit_code == 0, revoked.output
    time.sleep(1.5)  # every instance reads the revocations again within a second
    after = {name: api.call("GET", name, path, headers=token) for name, path in reads.items()}
    assert before == dict.fromkeys(reads, 200)
    assert {name: answer.status_code for name, answer in after.items()} == dict.fromkeys(reads, 401)
    assert all("revoked" in answer.text for answer in after.values())
    refused = api.call(
        "POST", "exercises", "/tokens/refresh", json={"refresh_token": created["refresh_token"]}
    )
    assert refused.status_code == 401, refused.text


def test_a_refreshed_access_token_is_accepted_by_another_service(api: Api) -> None:
    created = api.ok(
        "POST",
        "exercises",
        "/managers",
        json={"first_name": "Vera", "last_name": "Orlova", "email": "vera@school.example"},
    )

    renewed = api.ok(
        "POST", "exercises", "/tokens/refresh", json={"refresh_token": created["refresh_token"]}
    )

    token = {"Authorization": f"Bearer {renewed['access_token']}"}
    assert api.call("GET", "bonus", "/ratings", headers=token).status_code == 200
    assert api.call("GET", "hiring", "/candidates", headers=token).status_code == 200
