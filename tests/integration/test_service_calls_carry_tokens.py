"""Every call one service makes to another carries that service's own token, one the platform
verifies: hiring's synchronous links, exercises' push, bonus's COMM-070 lookup and its
reconciliation's reads (docs/security.md). The far end is a stand-in on a real socket that
records each request's Authorization header.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from integration.bonus.bonus_support import make_settings as bonus_settings
from integration.credentials import OPERATOR, TOKENS
from integration.exercises.exercises_support import Service
from integration.hiring.hiring_support import Hiring
from integration.hiring.hiring_support import make_settings as hiring_settings
from integration.link_stand_in import Answer, StandIn, stand_in
from teacher_hiring.bonus.bootstrap import bootstrap as bonus_app
from teacher_hiring.exercises.bootstrap import bootstrap as exercises_app
from teacher_hiring.exercises.settings import ExercisesSettings
from teacher_hiring.hiring.bootstrap import bootstrap as hiring_app
from teacher_hiring.runtime.tokens import Role

pytestmark = pytest.mark.integration

__all__ = ["stand_in"]


def callers(stand_in: StandIn) -> set[tuple[Role, str]]:
    """Who the stand-in's callers were, by their verified tokens (a bad one fails here)."""
    assert stand_in.authorizations, "nothing was called"
    assert all(header.startswith("Bearer ") for header in stand_in.authorizations)
    claims = [TOKENS.verify(header.removeprefix("Bearer ")) for header in stand_in.authorizations]
    return {(claim.role, claim.subject) for claim in claims}


def audiences(stand_in: StandIn) -> set[tuple[str, tuple[str, ...]]]:
    """Each path called, with the services its token was for (`aud`)."""
    return {
        (path.split("?")[0], TOKENS.verify(header.removeprefix("Bearer ")).audience)
        for (_, path, _), header in zip(stand_in.received, stand_in.authorizations, strict=True)
    }


@pytest.fixture
def client_of(tmp_path: Path) -> Iterator[Any]:
    opened: list[TestClient] = []

    def open_client(app: Any) -> TestClient:
        client = TestClient(app, headers=OPERATOR)
        client.__enter__()
        opened.append(client)
        return client

    yield open_client
    for client in reversed(opened):
        client.__exit__(None, None, None)


def test_hiring_calls_exercises_and_bonus_as_hiring(
    tmp_path: Path, stand_in: StandIn, client_of: Any
) -> None:
    settings = hiring_settings(
        tmp_path, exercises_url=stand_in.url, bonus_url=stand_in.url, call_timeout_s=2.0
    )
    app = hiring_app(settings)
    hiring = Hiring(app, client_of(app))
    for link in ("answer-check", "bonus-credit"):
        switched = hiring.http.put(f"/operator/links/{link}", json={"mode": "sync"})
        assert switched.status_code == 200, switched.text
    exercise = hiring.add_exercise(answers=("42",))
    stand_in.answers[f"/exercises/{exercise['exercise_id']}"] = Answer(
        body={"version": 1, "accepted_answers": ["42"], "check_mode": "normalized"}
    )
    candidate = hiring.register()

    hiring.solve(candidate["id"], exercise["exercise_id"], "42")

    assert {(method, path) for method, path, _ in stand_in.received} == {
        ("GET", f"/exercises/{exercise['exercise_id']}"),
        ("POST", "/api/v0/money"),
    }
    assert callers(stand_in) == {(Role.service, "hiring")}
    assert audiences(stand_in) == {
        (f"/exercises/{exercise['exercise_id']}", ("exercises",)),
        ("/api/v0/money", ("bonus",)),
    }


def test_exercises_pushes_to_hiring_as_exercises(
    tmp_path: Path, stand_in: StandIn, client_of: Any
) -> None:
    settings = ExercisesSettings(
        database_url=f"sqlite:///{tmp_path}/exercises.db",
        event_log_url=f"sqlite:///{tmp_path}/events.db",
        run_workers=False,
        exercise_updates_link="push",
        hiring_url=stand_in.url,
        log_level="warning",
    )
    service = Service(client_of(exercises_app(settings)))
    author = service.manager()
    exercise_id = service.exercise(author)

    saved = service.edit(exercise_id, author, statement="A harder statement")

    assert saved["pushed"] is True
    # The creation is pushed too (ExerciseCreated rides the same link), then the edit.
    assert [path for _, path, _ in stand_in.received] == ["/api/v0/exercise"] * 2
    assert [event["event_name"] for event in stand_in.events("/api/v0/exercise")] == [
        "ExerciseCreated",
        "ExerciseUpdated",
    ]
    assert callers(stand_in) == {(Role.service, "exercises")}
    assert audiences(stand_in) == {("/api/v0/exercise", ("hiring",))}


def test_bonus_reads_managers_and_money_issued_as_bonus(
    tmp_path: Path, stand_in: StandIn, client_of: Any
) -> None:
    stand_in.answers["/managers/m-1"] = Answer(status=404)
    app = bonus_app(bonus_settings(tmp_path, exercises_url=stand_in.url, hiring_url=stand_in.url))
    bonus = client_of(app)

    assert app.state.manager_directory.manager("m-1") is None  # COMM-070: unknown there
    reconciled = bonus.get("/operator/reconciliation")  # the stand-in's pages are unreadable

    assert reconciled.status_code == 502, reconciled.text
    paths = {path.split("?")[0] for _, path, _ in stand_in.received}
    assert paths == {"/managers/m-1", "/operator/money-issued"}
    assert callers(stand_in) == {(Role.service, "bonus")}
    assert ("/managers/m-1", ("exercises",)) in audiences(stand_in)
