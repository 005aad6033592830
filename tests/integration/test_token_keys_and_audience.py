"""Key ids, rotation and audience over HTTP, on the real bonus service (SQLite, embedded log):
a token for hiring is refused by bonus (401), a token of the previous key passes until its
acceptance ends, then is refused, and what the service mints is signed with the current key.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import jwt
import pytest
from fastapi.testclient import TestClient

from integration.bonus.bonus_support import closed_port
from teacher_hiring.bonus.bootstrap import bootstrap as bonus_app
from teacher_hiring.bonus.settings import BonusSettings
from teacher_hiring.exercises.bootstrap import bootstrap as exercises_app
from teacher_hiring.exercises.settings import ExercisesSettings
from teacher_hiring.runtime import tokens
from teacher_hiring.runtime.tokens import Role, Tokens, key_id

pytestmark = pytest.mark.integration

OLD = "the-previous-secret-of-this-test-32-bytes"
NEW = "the-current-secret-of-this-test-32-bytes!"
ACCEPTED_FOR_S = 60.0


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def rotated(tmp_path: Path) -> Iterator[tuple[TestClient, float]]:
    """Bonus signing with NEW and accepting OLD for a few seconds more."""
    until = time.time() + ACCEPTED_FOR_S
    settings = BonusSettings(
        database_url=f"sqlite:///{tmp_path}/bonus.db",
        event_log_url=f"sqlite:///{tmp_path}/events.db",
        exercises_url=f"http://127.0.0.1:{closed_port()}",
        hiring_url=f"http://127.0.0.1:{closed_port()}",
        run_workers=False,
        log_level="warning",
        auth_secret=NEW,
        auth_accepted_keys=[{"secret": OLD, "until": datetime.fromtimestamp(until, UTC)}],
    )
    with TestClient(bonus_app(settings)) as client:
        yield client, until


def test_a_token_for_hiring_is_refused_by_bonus(rotated: tuple[TestClient, float]) -> None:
    bonus, _ = rotated
    for_hiring = Tokens(NEW).mint(Role.operator, "op", 600, audience="hiring")
    for_bonus = Tokens(NEW).mint(Role.operator, "op", 600, audience="bonus")

    refused = bonus.get("/ledger/totals", headers=bearer(for_hiring))
    assert refused.status_code == 401
    assert "not for this service (its audience is hiring; this is bonus)" in refused.text
    assert bonus.get("/ledger/totals", headers=bearer(for_bonus)).status_code == 200


def test_a_service_token_for_another_service_cannot_post_money(
    rotated: tuple[TestClient, float],
) -> None:
    bonus, _ = rotated
    to_exercises = Tokens(NEW).mint(Role.service, "hiring", 600, audience="exercises")

    refused = bonus.post("/api/v0/money", json={}, headers=bearer(to_exercises))

    assert refused.status_code == 401, refused.text


def test_the_previous_key_is_accepted_until_its_acceptance_ends_then_refused(
    rotated: tuple[TestClient, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    bonus, until = rotated
    old = Tokens(OLD).mint(Role.operator, "op", 3600, audience="bonus")
    new = Tokens(NEW).mint(Role.operator, "op", 3600, audience="bonus")

    assert bonus.get("/ledger/totals", headers=bearer(old)).status_code == 200
    # the service's clock past `until`, rather than a sleep that a slow start could outlast
    later = until + 1 - time.time()
    monkeypatch.setattr(tokens, "time", SimpleNamespace(time=lambda: time.time() + later))

    refused = bonus.get("/ledger/totals", headers=bearer(old))
    assert refused.status_code == 401
    assert "retired key" in refused.text
    assert bonus.get("/ledger/totals", headers=bearer(new)).status_code == 200
    unknown = Tokens("a-key-nobody-configured-of-32-bytes!!").mint(Role.operator, "op", 60)
    assert bonus.get("/ledger/totals", headers=bearer(unknown)).status_code == 401


def test_a_managers_token_from_creation_is_signed_with_the_current_key(tmp_path: Path) -> None:
    settings = ExercisesSettings(
        database_url=f"sqlite:///{tmp_path}/exercises.db",
        event_log_url=f"sqlite:///{tmp_path}/events.db",
        run_workers=False,
        log_level="warning",
        auth_secret=NEW,
        auth_accepted_keys=[
            {"secret": OLD, "until": datetime.fromtimestamp(time.time() + 600, UTC)}
        ],
    )
    operator = Tokens(OLD).mint(Role.operator, "op", 600, audience="exercises")
    with TestClient(exercises_app(settings)) as exercises:
        created = exercises.post(
            "/managers",
            json={"first_name": "Anna", "last_name": "Petrova", "email": "anna@school.example"},
            headers=bearer(operator),
        )

    assert created.status_code == 201, created.text
    token = created.json()["access_token"]
    assert jwt.get_unverified_header(token)["kid"] == key_id(NEW)
    claims = Tokens(NEW, audience="bonus").verify(token)
    assert (claims.role, claims.subject) == (Role.manager, created.json()["id"])
