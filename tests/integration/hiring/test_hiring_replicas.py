"""The replicas of exercises and managers: by push and by the log, once, never backwards."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from event_examples import MANAGER_ID, example_envelope

from integration.credentials import AS_EXERCISES
from integration.hiring.hiring_support import Hiring, exercise_event, exercise_payload

pytestmark = pytest.mark.integration

EXERCISES, MANAGERS = "hiring.exercises", "hiring.managers"


def current_version(hiring: Hiring, exercise_id: str) -> int:
    version: int = hiring.stats(exercise_id)["current_version"]
    return version


def test_an_exercise_from_the_log_is_replicated_and_assignable(hiring: Hiring) -> None:
    payload = exercise_payload()
    hiring.send_to_log(exercise_event(payload))
    assert hiring.consume(EXERCISES) == 1
    candidate = hiring.register()
    assert candidate["exercises"][0]["exercise_id"] == payload["exercise_id"]
    assert hiring.solve(candidate["id"], payload["exercise_id"], "42")["correct"] is True


def test_pushed_then_logged_event_is_applied_once(hiring: Hiring) -> None:
    created = exercise_event(exercise_payload())
    assert hiring.push(created).json() == {"applied": True}
    assert hiring.push(created).json() == {"applied": False}
    hiring.send_to_log(created, created)
    assert hiring.consume(EXERCISES) == 2
    assert hiring.count("inbox") == 1
    assert hiring.count("exercises") == 1 and hiring.count("exercise_version_stats") == 1


def test_logged_then_pushed_event_is_applied_once(hiring: Hiring) -> None:
    payload = exercise_payload()
    created = exercise_event(payload)
    hiring.send_to_log(created)
    hiring.consume(EXERCISES)
    updated = exercise_event({**payload, "version": 2})
    hiring.send_to_log(updated)
    hiring.consume(EXERCISES)
    assert hiring.push(updated).json() == {"applied": False}
    assert hiring.push(created).json() == {"applied": False}
    assert current_version(hiring, payload["exercise_id"]) == 2
    assert hiring.count("inbox") == 2


def test_an_older_version_never_overwrites_a_newer_one(hiring: Hiring) -> None:
    payload = exercise_payload(answers=("old",))
    newer = exercise_event({**payload, "version": 3, "accepted_answers": ["new"]})
    assert hiring.push(newer).json() == {"applied": True}
    assert hiring.push(exercise_event({**payload, "version": 2})).json() == {"applied": False}
    hiring.send_to_log(exercise_event(payload))  # a Created arriving after the Update
    hiring.consume(EXERCISES)

    assert current_version(hiring, payload["exercise_id"]) == 3
    assert [v["version"] for v in hiring.stats(payload["exercise_id"])["versions"]] == [3]
    candidate = hiring.register()
    assert (
        hiring.submit(candidate["id"], payload["exercise_id"], "old", version=3).json()["correct"]
        is False
    )


def test_an_update_by_the_log_makes_the_old_version_stale(hiring: Hiring) -> None:
    payload = hiring.add_exercise()
    candidate = hiring.register()
    harder = {**payload, "version": 2, "accepted_answers": ["43"], "statement": "Harder now"}
    hiring.send_to_log(exercise_event(harder))
    hiring.consume(EXERCISES)
    stale = hiring.submit(candidate["id"], payload["exercise_id"], "42", version=1)
    assert (stale.status_code, stale.json()["current_version"]) == (409, 2)
    exercises = hiring.http.get(f"/candidates/{candidate['id']}/exercises").json()
    assert exercises[0]["version"] == 2 and exercises[0]["statement"] == "Harder now"


def test_push_refuses_other_events_and_names_what_is_wrong(hiring: Hiring) -> None:
    manager = hiring.push(example_envelope("ManagerCreated"))
    assert (manager.status_code, manager.json()["error"]) == (422, "EventRefused")

    broken = exercise_event(exercise_payload())
    del broken["payload"]["title"]
    invalid = hiring.push(broken)
    assert invalid.status_code == 422 and "title" in invalid.json()["detail"]
    assert invalid.json()["error"] == "EventRefused"

    future = exercise_event(exercise_payload())
    future["event_version"] = 7
    assert hiring.push(future).status_code == 422

    garbage = hiring.http.post("/api/v0/exercise", content=b"{not json", headers=AS_EXERCISES)
    assert garbage.status_code == 422 and garbage.json()["problem"] == "MalformedEvent"
    assert hiring.count("exercises") == 0 and hiring.count("inbox") == 0


def test_managers_are_upserted_and_redelivery_changes_nothing(hiring: Hiring) -> None:
    created, updated = example_envelope("ManagerCreated"), example_envelope("ManagerUpdated")
    hiring.send_to_log(created, updated, updated, created)
    assert hiring.consume(MANAGERS) == 4
    with hiring.runtime.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, first_name, last_name, team FROM managers")).all()
    # v0 events, read through the upcaster: "Anna Petrova-Smirnova" split at the first space
    assert [tuple(row) for row in rows] == [(MANAGER_ID, "Anna", "Petrova-Smirnova", None)]
    assert hiring.count("inbox") == 2


def test_the_operators_topic_counts_grow_by_the_records_appended(hiring: Hiring) -> None:
    events = [exercise_event(exercise_payload()) for _ in range(2)]
    topic = hiring.runtime.registry.spec(events[0]["event_name"]).topic
    hiring.send_to_log(events[0])
    before = {t["topic"]: t["records"] for t in hiring.http.get("/operator/topics").json()}

    hiring.send_to_log(*events)
    after = {t["topic"]: t["records"] for t in hiring.http.get("/operator/topics").json()}

    assert set(after) == set(hiring.runtime.registry.topics())
    assert after[topic] == before[topic] + 2
    assert {name: count for name, count in after.items() if name != topic} == {
        name: count for name, count in before.items() if name != topic
    }
