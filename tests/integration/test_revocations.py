"""Revoking a person's tokens, on the real hiring service (SQLite) served by uvicorn: the
operator's route and `teacher-hiring token revoke`; every instance of the service refuses the
person's existing tokens within a second, and tokens minted afterwards pass."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from integration.bonus.bonus_support import closed_port
from integration.credentials import OPERATOR, TOKENS
from integration.hiring.hiring_support import make_settings
from integration.http_server import serving
from teacher_hiring.cli import app as cli
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.hiring.bootstrap import bootstrap as hiring_app
from teacher_hiring.runtime.revocations import TTL_S
from teacher_hiring.runtime.tokens import Role

pytestmark = pytest.mark.integration

runner = CliRunner()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def two_instances(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two instances of hiring on one database, as the distributed run has them."""
    nowhere = f"http://127.0.0.1:{closed_port()}"
    settings = make_settings(tmp_path, exercises_url=nowhere, bonus_url=nowhere)
    with (
        serving(hiring_app(settings), free_port()) as one,
        serving(hiring_app(settings), free_port()) as other,
    ):
        yield one, other


def manager_token(manager_id: str) -> str:
    """A manager's token, as their creation hands it out (any manager may list candidates)."""
    return TOKENS.mint(Role.manager, manager_id, 600)


def lists_candidates(url: str, token: str) -> httpx.Response:
    return httpx.get(f"{url}/candidates", headers=bearer(token))


def test_a_revoked_persons_tokens_are_refused_by_every_instance_within_a_second(
    two_instances: tuple[str, str],
) -> None:
    one, other = two_instances
    token, colleagues = manager_token("m-1"), manager_token("m-2")
    assert lists_candidates(other, token).status_code == 200  # verified, and kept, there

    revoked = httpx.post(
        f"{one}/operator/revocations", json={"role": "manager", "subject": "m-1"}, headers=OPERATOR
    )

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["not_before"] == pytest.approx(time.time(), abs=5)
    refused = lists_candidates(one, token)
    assert refused.status_code == 401 and "revoked" in refused.text
    time.sleep(TTL_S + 0.2)
    assert lists_candidates(other, token).status_code == 401
    assert lists_candidates(other, colleagues).status_code == 200  # only m-1's
    time.sleep(1.1)  # a token's iat is in whole seconds: one minted in a later second
    assert lists_candidates(other, manager_token("m-1")).status_code == 200


def test_only_an_operator_revokes_and_a_bad_revocation_names_its_field(
    two_instances: tuple[str, str],
) -> None:
    one, _ = two_instances
    token = manager_token("m-1")
    url = f"{one}/operator/revocations"
    body = {"role": "manager", "subject": "m-1"}

    assert httpx.post(url, json=body).status_code == 401
    assert httpx.post(url, json=body, headers=bearer(token)).status_code == 403
    for bad, field in (
        ({"role": "service", "subject": "hiring"}, "role"),
        ({"role": "candidate", "subject": "x" * 81}, "subject"),
        ({"role": "candidate", "subject": "   "}, "subject"),
    ):
        refused = httpx.post(url, json=bad, headers=OPERATOR)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["body", field]
    assert lists_candidates(one, token).status_code == 200  # untouched


def test_the_revoke_command_tells_every_service_and_names_one_it_cannot_reach(
    two_instances: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, other = two_instances
    monkeypatch.setenv("TEACHER_HIRING_AUTH_SECRET", TOKENS.secret)
    manager_token = TOKENS.mint(Role.manager, "m-7", 600)
    urls = ["--exercises-url", one, "--hiring-url", other]

    done = runner.invoke(cli, ["token", "revoke", "manager", "m-7", *urls, "--bonus-url", one])

    assert done.exit_code == 0, done.output
    assert "hiring: manager m-7's tokens minted until now are refused" in done.output
    refused = httpx.get(f"{one}/candidates", headers=bearer(manager_token))
    assert refused.status_code == 401 and "revoked" in refused.text

    nowhere = f"http://127.0.0.1:{closed_port()}"
    partly = runner.invoke(
        cli, ["token", "revoke", "candidate", "c-1", *urls, "--bonus-url", nowhere]
    )
    assert partly.exit_code == 1
    assert "bonus: not reached" in partly.output and "run the command again" in partly.output
    assert "hiring: candidate c-1's tokens" in partly.output
    assert runner.invoke(cli, ["token", "revoke", "service", "hiring"]).exit_code == 2
