"""The submission route's fast lane (hiring/entrypoints/hot_route.py): a verdict in order is
answered below FastAPI, everything else by the route itself, unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from integration.credentials import as_candidate
from integration.hiring.hiring_support import Hiring
from teacher_hiring.hiring.entrypoints import hot_route
from teacher_hiring.runtime.http_metrics import HTTP_REQUESTS

pytestmark = pytest.mark.integration
ROUTE = "/candidates/{candidate_id}/submissions"


@pytest.fixture
def lane(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each submission request, whether the lane answered it (True) or passed it on."""
    answered: list[bool] = []
    verdict = hot_route.SubmissionFastLane._verdict

    def spied(self: Any, *args: Any) -> bytes | None:
        found = verdict(self, *args)
        answered.append(found is not None)
        return found

    monkeypatch.setattr(hot_route.SubmissionFastLane, "_verdict", spied)
    return answered


def on_sqlite(hiring: Hiring) -> bool:
    return hiring.runtime.engine.dialect.name == "sqlite"


def _counted(service: str) -> float:
    return HTTP_REQUESTS.labels(service, "POST", ROUTE)._value.get()


def test_a_verdict_in_order_is_the_lanes_with_the_routes_fields_and_trace(
    hiring: Hiring, lane: list[bool]
) -> None:
    exercise = hiring.add_exercise(answers=("a",))
    candidate = hiring.register()
    counted = _counted("hiring")
    response = hiring.http.post(
        f"/candidates/{candidate['id']}/submissions",
        json={"exercise_id": exercise["exercise_id"], "exercise_version": 1, "answer": "a"},
        headers={**as_candidate(candidate["id"]), "X-Trace-Id": "trace-of-the-lane"},
    )
    # On PostgreSQL a submission runs in a worker thread: the route's, never the lane's.
    assert lane == [on_sqlite(hiring)]
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-trace-id"] == "trace-of-the-lane"
    assert list(response.json()) == [
        "submission_id",
        "exercise_id",
        "exercise_version",
        "correct",
        "attempt",
        "attempts_left",
        "solved",
        "candidate_status",
        "replayed",
    ]
    assert response.json()["correct"] is True and response.json()["replayed"] is False
    assert _counted("hiring") == counted + 1  # by its template, as the router counts it
    assert hiring.count("submissions") == 1 and hiring.count("issued_money") == 1


def test_refusals_are_the_routes_own_and_write_nothing(hiring: Hiring, lane: list[bool]) -> None:
    exercise = hiring.add_exercise(answers=("a",))
    candidate = hiring.register()
    other = hiring.register("Anna Petrova")
    path = f"/candidates/{candidate['id']}/submissions"
    body = {"exercise_id": exercise["exercise_id"], "exercise_version": 1, "answer": "a"}

    no_token = hiring.http.post(path, json=body, headers={"Authorization": ""})
    assert no_token.status_code == 401 and "WWW-Authenticate" in no_token.headers
    not_theirs = hiring.http.post(path, json=body, headers=as_candidate(other["id"]))
    assert not_theirs.status_code == 403
    malformed = hiring.http.post(
        path, json={**body, "exercise_version": 0}, headers=as_candidate(candidate["id"])
    )
    assert malformed.status_code == 422 and "exercise_version" in malformed.text
    stale = hiring.http.post(
        path, json={**body, "exercise_version": 2}, headers=as_candidate(candidate["id"])
    )
    assert stale.status_code == 409 and stale.json()["error"] == "StaleExerciseVersion"
    assert lane == [False, False, False, False]  # the domain error too: the route answered it
    assert hiring.count("submissions") == 0

    replay_key = {"Idempotency-Key": "k-1", **as_candidate(candidate["id"])}
    first = hiring.http.post(path, json=body, headers=replay_key)
    again = hiring.http.post(path, json=body, headers=replay_key)
    assert first.status_code == again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}
    assert lane[-2:] == [on_sqlite(hiring)] * 2
    assert hiring.count("submissions") == 1 and hiring.count("issued_money") == 1
