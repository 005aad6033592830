"""Short-lived access tokens and the refresh path, on the real exercises service (SQLite): a
manager's creation hands out both, `POST /tokens/refresh` renews them, a refresh token is used
up by its exchange, and presenting it again revokes its whole family; a revoked person's
refresh tokens are refused; only hashes are kept."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from integration.credentials import OPERATOR, TOKENS
from teacher_hiring.exercises.bootstrap import bootstrap as exercises_app
from teacher_hiring.exercises.settings import ExercisesSettings

pytestmark = pytest.mark.integration

ACCESS_TTL_S = 120


@pytest.fixture
def exercises(tmp_path: Path) -> Iterator[TestClient]:
    settings = ExercisesSettings(
        database_url=f"sqlite:///{tmp_path}/exercises.db",
        event_log_url=f"sqlite:///{tmp_path}/events.db",
        run_workers=False,
        log_level="warning",
        access_token_ttl_s=ACCESS_TTL_S,
    )
    with TestClient(exercises_app(settings)) as client:
        yield client


def create_manager(exercises: TestClient) -> dict[str, Any]:
    body = {"first_name": "Anna", "last_name": "Petrova", "email": "anna@school.example"}
    created = exercises.post("/managers", json=body, headers=OPERATOR)
    assert created.status_code == 201, created.text
    answer: dict[str, Any] = created.json()
    return answer


def as_bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refresh(exercises: TestClient, token: str) -> Any:
    return exercises.post("/tokens/refresh", json={"refresh_token": token})


def test_a_managers_access_token_lives_minutes_and_a_refresh_renews_it(
    exercises: TestClient, tmp_path: Path
) -> None:
    manager = create_manager(exercises)
    claims = TOKENS.verify(manager["access_token"])
    assert claims.expires_at - claims.issued_at == ACCESS_TTL_S

    renewed = refresh(exercises, manager["refresh_token"])

    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["expires_in"] == ACCESS_TTL_S
    assert body["refresh_token"] != manager["refresh_token"]
    new_claims = TOKENS.verify(body["access_token"])
    assert (new_claims.role, new_claims.subject) == (claims.role, manager["id"])
    mine = exercises.get(f"/managers/{manager['id']}", headers=as_bearer(body["access_token"]))
    assert mine.status_code == 200, mine.text
    engine = sa.create_engine(f"sqlite:///{tmp_path}/exercises.db")
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_hash FROM refresh_tokens")).scalars().all()
    engine.dispose()
    assert len(stored) == 2
    assert manager["refresh_token"] not in stored and body["refresh_token"] not in stored


def test_a_used_refresh_token_presented_again_revokes_its_whole_family(
    exercises: TestClient,
) -> None:
    manager = create_manager(exercises)
    first = refresh(exercises, manager["refresh_token"]).json()
    other = create_manager(exercises)  # another family, untouched

    reused = refresh(exercises, manager["refresh_token"])

    assert reused.status_code == 401
    assert "already used; every token of its family is revoked" in reused.text
    later = refresh(exercises, first["refresh_token"])  # the legitimate holder's next one
    assert later.status_code == 401 and "revoked" in later.text
    assert refresh(exercises, other["refresh_token"]).status_code == 200


def test_a_revoked_persons_refresh_tokens_are_refused(exercises: TestClient) -> None:
    manager = create_manager(exercises)
    time.sleep(0.01)

    revoked = exercises.post(
        "/operator/revocations",
        json={"role": "manager", "subject": manager["id"]},
        headers=OPERATOR,
    )

    assert revoked.status_code == 200, revoked.text
    refused = refresh(exercises, manager["refresh_token"])
    assert refused.status_code == 401 and "person's tokens were revoked" in refused.text


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"refresh_token": "never-issued"}, 401),
        ({"refresh_token": ""}, 422),
        ({}, 422),
    ],
)
def test_an_unknown_or_malformed_refresh_token_is_refused(
    exercises: TestClient, body: dict[str, str], status: int
) -> None:
    answer = exercises.post("/tokens/refresh", json=body)

    assert answer.status_code == status, answer.text
