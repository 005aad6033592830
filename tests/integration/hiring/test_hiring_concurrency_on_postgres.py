"""Two instances of hiring on one PostgreSQL database, taking submissions at the same moment.

On SQLite writers take turns; here they do not, and the row locks of the repository must keep
every counter exact: one completion per candidate, attempts capped, the eleventh completion
leaking the version exactly once, rating_version strictly increasing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from integration.credentials import OPERATOR
from integration.hiring.hiring_support import Hiring, exercise_event, make_settings
from teacher_hiring.hiring.bootstrap import bootstrap

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
def instances(tmp_path: Path, postgres_url: str) -> Iterator[list[Hiring]]:
    """Two instances: one database, one event log, each its own app, pool and threads."""
    running: list[tuple[Hiring, TestClient]] = []
    for _ in range(2):
        app = bootstrap(make_settings(tmp_path, database_url=postgres_url))
        client = TestClient(app, headers=OPERATOR)
        client.__enter__()
        running.append((Hiring(app, client), client))
    yield [hiring for hiring, _ in running]
    for _, client in running:
        client.__exit__(None, None, None)


def at_once(count: int, request: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(request, range(count)))


def payloads(hiring: Hiring, event_name: str) -> list[dict[str, Any]]:
    return [event["payload"] for event in hiring.events(event_name)]


def test_the_eleventh_completion_leaks_the_version_exactly_once(instances: list[Hiring]) -> None:
    first = instances[0]
    exercise = first.add_exercise()
    candidates = [first.register(f"Candidate {n}")["id"] for n in range(20)]

    responses = at_once(
        20,
        lambda n: instances[n % 2].submit(candidates[n], exercise["exercise_id"], "42"),
    )

    assert [r.status_code for r in responses] == [200] * 20
    assert len(first.events("ExerciseCompletedMoreThenTenTimes")) == 1
    bonuses = sorted(p["completion_number"] for p in payloads(first, "BonusAdded"))
    fines = sorted(p["completion_number"] for p in payloads(first, "FineAdded"))
    assert (bonuses, fines) == (list(range(1, 11)), list(range(11, 21)))
    (version,) = first.stats(exercise["exercise_id"])["versions"]
    assert (version["completions"], version["needs_complication"]) == (20, True)


def test_one_candidate_sending_the_right_answer_16_times_at_once_completes_once(
    instances: list[Hiring],
) -> None:
    first = instances[0]
    exercise = first.add_exercise()
    candidate = first.register()["id"]

    responses = at_once(
        16, lambda n: instances[n % 2].submit(candidate, exercise["exercise_id"], "42")
    )

    verdicts = [r.json() for r in responses]
    assert {r.status_code for r in responses} == {200}
    assert len({v["submission_id"] for v in verdicts}) == 1
    assert sum(not v["replayed"] for v in verdicts) == 1
    assert first.count("submissions") == 1
    assert len(first.events("BonusAdded")) == 1
    assert len(first.events("CandidateUpdated")) == 1  # promoted once
    assert first.stats(exercise["exercise_id"])["versions"][0]["completions"] == 1


def test_wrong_answers_sent_at_once_still_get_five_attempts_only(instances: list[Hiring]) -> None:
    first = instances[0]
    exercise = first.add_exercise()
    candidate = first.register()["id"]

    responses = at_once(
        16, lambda n: instances[n % 2].submit(candidate, exercise["exercise_id"], f"no {n}")
    )

    accepted = [r.json()["attempt"] for r in responses if r.status_code == 200]
    refused = [r.json()["error"] for r in responses if r.status_code != 200]
    assert sorted(accepted) == [1, 2, 3, 4, 5]
    assert refused == ["AttemptLimitReached"] * 11
    assert first.count("submissions") == 5
    (version,) = first.stats(exercise["exercise_id"])["versions"]
    assert (version["attempted_candidates"], version["failed_first_attempts"]) == (1, 1)


def test_rating_version_strictly_increases_when_first_attempts_arrive_at_once(
    instances: list[Hiring],
) -> None:
    first = instances[0]
    exercise = first.add_exercise()
    candidates = [first.register(f"Candidate {n}")["id"] for n in range(16)]

    responses = at_once(
        16,
        lambda n: instances[n % 2].submit(
            candidates[n], exercise["exercise_id"], "42" if n % 3 else "wrong"
        ),
    )

    assert {r.status_code for r in responses} == {200}
    ratings = payloads(first, "TaskRatingChanged")  # in outbox order, the order they leave in
    versions = [r["rating_version"] for r in ratings]
    assert versions == list(range(1, len(versions) + 1))
    assert ratings[-1]["attempted_candidates"] == 16
    assert first.stats(exercise["exercise_id"])["rating_version"] == versions[-1]
    for bonus in payloads(first, "BonusAdded"):
        assert 1 <= bonus["rating_version"] <= versions[-1]


def test_versions_replicated_at_once_leave_the_newest_one_current(instances: list[Hiring]) -> None:
    first = instances[0]
    exercise = first.add_exercise()

    responses = at_once(
        8, lambda n: instances[n % 2].push(exercise_event({**exercise, "version": n + 2}))
    )

    assert {r.status_code for r in responses} == {200}
    stats = first.stats(exercise["exercise_id"])
    assert stats["current_version"] == 9
    assert stats["versions"][-1]["version"] == 9
