"""The old wiring (`teacher-hiring links preset before`) fails candidates when bonus or
exercises is down, as the first document says the system of today does (Problem-050, 080);
the new wiring (`after`) does not. Both are modes of the same running services."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from e2e.platform_api import Api, eventually
from teacher_hiring.cli import app
from teacher_hiring.runtime.processes import Platform

pytestmark = pytest.mark.e2e

RECOVERY_S = 60.0  # on Kafka a restarted member gets its partitions after a rebalance


def preset(platform: Platform, wiring: str) -> Any:
    urls = ["--exercises-url", platform["exercises"].url, "--hiring-url", platform["hiring"].url]
    return CliRunner(env={"COLUMNS": "200"}).invoke(app, ["links", "preset", wiring, *urls])


def solvable(api: Api) -> tuple[str, str]:
    author = api.manager("Author Old")
    exercise_id = api.exercise(author, "ok")
    api.hiring_knows([exercise_id])
    return author, exercise_id


def attempts_left(api: Api, candidate_id: str) -> int:
    [exercise] = api.ok("GET", "hiring", f"/candidates/{candidate_id}/exercises")
    return int(exercise["attempts_left"])


def test_the_old_wiring_fails_candidates_when_bonus_or_exercises_is_down_the_new_one_not(
    api: Api, platform: Platform
) -> None:
    author, exercise_id = solvable(api)
    wired = preset(platform, "before")
    assert wired.exit_code == 0, wired.output
    assert "bonus-credit" in wired.output and "sync" in wired.output

    # Bonus down: a correct submission fails in the old wiring, succeeds in the new one.
    platform["bonus"].kill()
    first = api.candidate("Solver while bonus is down, old wiring")
    failed = api.submit(first["id"], exercise_id, 1, "ok")
    assert failed.status_code == 503, failed.text
    assert failed.json()["service"] == "bonus" and "bonus" in failed.json()["detail"]
    # The old system's mess: the UI shows an error, yet the solution was stored.
    assert api.ok("GET", "hiring", f"/candidates/{first['id']}")["status"] == "teacher"
    assert preset(platform, "after").exit_code == 0
    second = api.candidate("Solver while bonus is down, new wiring")
    solved = api.submit(second["id"], exercise_id, 1, "ok")
    assert solved.status_code == 200 and solved.json()["correct"] is True, solved.text
    platform["bonus"].start()
    platform["bonus"].wait_ready()

    # Exercises down: every submission fails in the old wiring, nothing is checked.
    assert preset(platform, "before").exit_code == 0
    platform["exercises"].kill()
    third = api.candidate("Solver while exercises is down")
    for answer in ("ok", "wrong"):
        response = api.submit(third["id"], exercise_id, 1, answer)
        assert response.status_code == 503, response.text
        assert response.json()["detail"].startswith("exercises: ")
    assert attempts_left(api, third["id"]) == 5
    # `after` switches hiring's links first, then stops at exercises' own: it is down.
    partly = preset(platform, "after")
    assert partly.exit_code == 1
    assert "the links above were switched" in " ".join(partly.output.split())
    assert api.ok("GET", "hiring", "/operator/links/answer-check")["mode"] == "replica"
    checked = api.submit(third["id"], exercise_id, 1, "ok")
    assert checked.status_code == 200 and checked.json()["correct"] is True, checked.text

    # Every bonus reaches the ledger once, the one whose call failed included.
    submissions = {r.json()["submission_id"] for r in (failed, solved, checked)}

    def credited() -> list[dict[str, Any]] | None:
        entries = api.entries(author)
        return entries if len(entries) == len(submissions) else None

    entries = eventually(credited, what="three bonuses in the ledger", timeout_s=RECOVERY_S)
    assert {e["details"]["submission_id"] for e in entries} == submissions
    assert {e["kind"] for e in entries} == {"bonus"}
