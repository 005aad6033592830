"""US-160 in hiring: exercises of both event versions in one replica, and candidates assigned
exercises of their subject. US-170: managers of both versions in one replica."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from event_examples import example_envelope

from integration.hiring.hiring_support import Hiring, exercise_event, exercise_payload

pytestmark = pytest.mark.integration

EXERCISES, MANAGERS = "hiring.exercises", "hiring.managers"


def register(hiring: Hiring, name: str, subject: str | None) -> Any:
    body: dict[str, Any] = {"name": name, "email": f"{name.lower()}@mail.example"}
    if subject is not None:
        body["subject"] = subject
    return hiring.http.post("/candidates", json=body)


def replica(hiring: Hiring) -> dict[str, tuple[str, int]]:
    items = hiring.http.get("/exercises").json()["items"]
    return {item["exercise_id"]: (item["subject"], item["difficulty"]) for item in items}


def test_exercises_of_both_versions_reach_one_replica_by_log_and_by_push(hiring: Hiring) -> None:
    old = exercise_payload()
    new = exercise_payload(subject="mathematics", difficulty=5)
    pushed_old, pushed_new = exercise_payload(), exercise_payload(subject="physics")
    hiring.send_to_log(exercise_event(old), exercise_event(new))
    assert hiring.consume(EXERCISES) == 2
    assert hiring.push(exercise_event(pushed_old)).json() == {"applied": True}
    assert hiring.push(exercise_event(pushed_new)).json() == {"applied": True}

    assert replica(hiring) == {
        old["exercise_id"]: ("general", 3),
        new["exercise_id"]: ("mathematics", 5),
        pushed_old["exercise_id"]: ("general", 3),
        pushed_new["exercise_id"]: ("physics", 3),
    }
    stats = hiring.stats(new["exercise_id"])
    assert (stats["subject"], stats["difficulty"]) == ("mathematics", 5)


def test_a_v0_update_after_a_v1_creation_falls_back_to_the_defaults(hiring: Hiring) -> None:
    """What a rollback of the producer's flag looks like: a v0 update carries no subject, and
    the replica takes the whole new version as v0 describes it."""
    created = hiring.add_exercise(subject="mathematics", difficulty=4)
    updated = {k: v for k, v in created.items() if k not in ("subject", "difficulty")}
    hiring.new_version(updated)
    assert replica(hiring)[created["exercise_id"]] == ("general", 3)


def test_a_candidate_with_a_subject_gets_only_exercises_of_it(hiring: Hiring) -> None:
    maths = sorted(
        hiring.add_exercise(answers=("x",), subject="mathematics")["exercise_id"] for _ in range(4)
    )
    physics = hiring.add_exercise(subject="physics")["exercise_id"]
    general = hiring.add_exercise()["exercise_id"]

    anna = register(hiring, "Anna", "mathematics")
    assert anna.status_code == 201
    assert anna.json()["subject"] == "mathematics"
    assert [e["exercise_id"] for e in anna.json()["exercises"]] == maths[:3]
    assert {e["subject"] for e in anna.json()["exercises"]} == {"mathematics"}
    hiring.solve(anna.json()["id"], maths[0], "x")

    boris = register(hiring, "Boris", "mathematics").json()
    assert [e["exercise_id"] for e in boris["exercises"]] == [maths[1], maths[2], maths[3]]
    only_physics = register(hiring, "Pavel", "physics").json()
    assert [e["exercise_id"] for e in only_physics["exercises"]] == [physics]

    anyone = register(hiring, "Vera", None).json()
    assert anyone["subject"] is None
    assignable = set(maths) | {physics, general}
    assert {e["exercise_id"] for e in anyone["exercises"]} <= assignable
    assert len(anyone["exercises"]) == 3
    shown = hiring.http.get(f"/candidates/{anna.json()['id']}").json()
    assert shown["subject"] == "mathematics"
    to_solve = hiring.http.get(f"/candidates/{anna.json()['id']}/exercises").json()
    assert {(e["subject"], e["difficulty"]) for e in to_solve} == {("mathematics", 3)}


def test_no_exercise_of_the_subject_is_a_conflict_naming_the_subject(hiring: Hiring) -> None:
    hiring.add_exercise(subject="physics")
    response = register(hiring, "Anna", "chemistry")
    assert response.status_code == 409
    body = response.json()
    assert (body["error"], body["subject"]) == ("NoExercisesAvailable", "chemistry")
    assert "chemistry" in body["detail"]
    assert hiring.count("candidates") == 0


@pytest.mark.parametrize("subject", ["Mathematics", "", "two words", "x" * 51])
def test_a_malformed_subject_is_refused_naming_it(hiring: Hiring, subject: str) -> None:
    hiring.add_exercise()
    response = register(hiring, "Anna", subject)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "subject"]


def test_managers_of_both_versions_reach_one_replica_with_split_names(hiring: Hiring) -> None:
    old = example_envelope("ManagerCreated", 0)
    old["payload"] |= {"manager_id": "m-old", "name": "Boris Godunov"}
    new = example_envelope("ManagerCreated", 1)
    new["payload"] |= {"manager_id": "m-new", "team": "history"}
    hiring.send_to_log(old, new)
    assert hiring.consume(MANAGERS) == 2
    with hiring.runtime.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, first_name, last_name, team FROM managers ORDER BY id")
        ).all()
    assert [tuple(row) for row in rows] == [
        ("m-new", "Anna", "Petrova", "history"),
        ("m-old", "Boris", "Godunov", None),
    ]
