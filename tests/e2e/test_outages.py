"""A fallen service takes nothing else down, and catches up when it is back."""

from __future__ import annotations

import pytest

from e2e.platform_api import Api, eventually
from teacher_hiring.runtime.processes import Platform

pytestmark = pytest.mark.e2e

# On Kafka, a killed member's partitions move to the restarted one after its session timeout.
RECOVERY_S = 60.0


def test_candidates_keep_solving_while_exercises_is_down_and_it_catches_up(
    api: Api, platform: Platform
) -> None:
    author = api.manager()
    exercise_id = api.exercise(author, "ok")
    api.hiring_knows([exercise_id])
    platform["exercises"].kill()

    solvers = []
    for n in range(11):
        candidate = api.candidate(f"While down {n}")
        response = api.submit(candidate["id"], exercise_id, 1, "ok")
        assert response.status_code == 200, response.text
        assert response.json()["correct"] is True
        solvers.append(candidate["id"])

    platform["exercises"].start()
    platform["exercises"].wait_ready()
    eventually(
        lambda: (
            {c["candidate_id"] for c in api.ok("GET", "exercises", "/candidates")} >= set(solvers)
        ),
        what="exercises' candidate replica caught up",
        timeout_s=RECOVERY_S,
    )
    assignments = eventually(
        lambda: api.ok("GET", "exercises", "/assignments"),
        what="the 11th completion, made while exercises was down, opened an assignment",
        timeout_s=RECOVERY_S,
    )
    assert len(assignments) == 1


def test_the_ledger_is_complete_after_bonus_comes_back(api: Api, platform: Platform) -> None:
    author = api.manager()
    exercise_id = api.exercise(author, "ok")
    api.hiring_knows([exercise_id])
    eventually(lambda: api.ledger(author), what="bonus opened the account")
    platform["bonus"].kill()

    for n in range(8):
        candidate = api.candidate(f"While bonus is down {n}")
        assert api.submit(candidate["id"], exercise_id, 1, "ok").status_code == 200

    platform["bonus"].start()
    platform["bonus"].wait_ready()
    entries = eventually(
        lambda: (lambda e: e if len(e) == 8 else None)(api.entries(author)),
        what="eight bonuses in the ledger",
        timeout_s=RECOVERY_S,
    )
    assert len({e["business_key"] for e in entries}) == 8


def test_managers_keep_writing_exercises_while_hiring_is_down_and_it_catches_up(
    api: Api, platform: Platform
) -> None:
    author = api.manager()
    first = api.exercise(author, "ok", "Written while hiring is up")
    api.hiring_knows([first], timeout_s=0.1)  # pushed before its creation answered
    platform["hiring"].kill()

    body = {"author_id": author, "title": "Written while down", "statement": "?"}
    created = api.call(
        "POST",
        "exercises",
        "/exercises",
        json={**body, "accepted_answers": ["ok"]},
        headers=api.as_manager(author),
    )
    assert created.status_code == 201, created.text
    assert created.json()["pushed"] is False  # kept in the outbox: exercises did not wait

    platform["hiring"].start()
    platform["hiring"].wait_ready()
    api.hiring_knows([created.json()["id"]], timeout_s=RECOVERY_S)  # the relay's retry
