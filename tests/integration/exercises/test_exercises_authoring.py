"""Managers and exercises over HTTP: versions, history, the events staged, and refusals."""

from __future__ import annotations

import pytest

from integration.exercises.exercises_support import Service

pytestmark = pytest.mark.integration


def test_creating_a_manager_stages_manager_created_with_exactly_its_fields(
    service: Service,
) -> None:
    body = {
        "first_name": "Anna",
        "last_name": "Petrova",
        "team": "mathematics",
        "email": "anna@school.example",
    }
    manager = service.ok("POST", "/managers", json=body)
    assert manager["open_assignments"] == 0
    [event] = service.staged("ManagerCreated")
    assert event["event_version"] == 1
    assert event["payload"] == {
        "manager_id": manager["id"],
        "first_name": "Anna",
        "last_name": "Petrova",
        "team": "mathematics",
        "email": "anna@school.example",
    }
    assert event["producer"] == "exercises"
    shown = service.ok("GET", f"/managers/{manager['id']}")
    assert (shown["name"], shown["first_name"], shown["last_name"], shown["team"]) == (
        "Anna Petrova",
        "Anna",
        "Petrova",
        "mathematics",
    )


def test_changing_a_manager_stages_manager_updated_and_the_same_values_stage_nothing(
    service: Service,
) -> None:
    manager_id = service.manager()
    changed = service.ok("PATCH", f"/managers/{manager_id}", json={"last_name": "Smirnova"})
    assert changed["name"] == "Anna Smirnova"
    service.ok("PATCH", f"/managers/{manager_id}", json={"last_name": "Smirnova"})
    [event] = service.staged("ManagerUpdated")
    assert (event["payload"]["first_name"], event["payload"]["last_name"]) == ("Anna", "Smirnova")
    assert event["payload"]["manager_id"] == manager_id


def test_creating_an_exercise_gives_version_1_active_and_stages_exercise_created(
    service: Service,
) -> None:
    author = service.manager()
    body = {
        "author_id": author,
        "title": "Sum of two numbers",
        "statement": "What is 2 + 3?",
        "accepted_answers": ["5", "five"],
    }
    created = service.ok("POST", "/exercises", json=body)
    assert (created["version"], created["status"], created["check_mode"]) == (
        1,
        "active",
        "normalized",
    )
    [event] = service.staged("ExerciseCreated")
    payload = event["payload"]
    assert payload["exercise_id"] == created["id"]
    assert payload["accepted_answers"] == ["5", "five"]
    assert (payload["version"], payload["author_id"]) == (1, author)
    assert payload["updated_at"].endswith("Z")


def test_every_edit_bumps_the_version_keeps_the_history_and_stages_exercise_updated(
    service: Service,
) -> None:
    author = service.manager()
    editor = service.manager("Boris Ivanov")
    exercise_id = service.exercise(author, answer="5")

    second = service.edit(
        exercise_id, author, statement="What is 17 + 25?", accepted_answers=["42"]
    )
    third = service.edit(exercise_id, editor, check_mode="exact", expected_version=2)

    assert (second["version"], third["version"]) == (2, 3)
    assert third["accepted_answers"] == ["42"] and third["check_mode"] == "exact"
    assert third["pushed"] is False  # event mode: the relay publishes it to the log
    updates = service.staged("ExerciseUpdated")
    assert [e["payload"]["version"] for e in updates] == [2, 3]
    assert [e["payload"]["edited_by"] for e in updates] == [author, editor]
    history = service.ok("GET", f"/exercises/{exercise_id}/versions")
    assert [(v["version"], v["edited_by"]) for v in history] == [
        (1, author),
        (2, author),
        (3, editor),
    ]
    assert history[0]["accepted_answers"] == ["5"]
    assert service.ok("GET", f"/exercises/{exercise_id}")["version"] == 3


def test_exercises_can_be_listed_by_author_and_status(service: Service) -> None:
    anna, boris = service.manager(), service.manager("Boris Ivanov")
    mine = service.exercise(anna)
    service.exercise(boris)
    listed = service.ok("GET", "/exercises", params={"author_id": anna})
    assert [e["id"] for e in listed] == [mine]
    assert len(service.ok("GET", "/exercises", params={"status": "active"})) == 2
    assert service.ok("GET", "/exercises", params={"status": "needs_complication"}) == []


def test_an_exercise_by_an_unknown_author_is_refused_with_404_naming_author_id(
    service: Service,
) -> None:
    body = {"author_id": "nobody", "title": "T", "statement": "S", "accepted_answers": ["a"]}
    response = service.client.post("/exercises", json=body)
    assert response.status_code == 404
    assert response.json()["field"] == "author_id"
    assert "author_id" in response.json()["detail"]
    assert service.staged("ExerciseCreated") == []


def test_an_edit_by_an_unknown_editor_or_of_an_unknown_exercise_is_404_naming_the_field(
    service: Service,
) -> None:
    exercise_id = service.exercise(service.manager())
    by_stranger = service.client.put(
        f"/exercises/{exercise_id}", json={"editor_id": "nobody", "title": "New"}
    )
    assert by_stranger.status_code == 404 and by_stranger.json()["field"] == "editor_id"
    missing = service.client.put(
        "/exercises/nothing-here", json={"editor_id": "nobody", "title": "New"}
    )
    assert missing.status_code == 404 and missing.json()["field"] == "exercise_id"
    for path in ("/managers/nobody", "/exercises/nothing", "/assignments/none"):
        assert service.client.get(path).status_code == 404


def test_an_edit_from_an_old_version_is_refused_with_409_and_the_current_version(
    service: Service,
) -> None:
    author = service.manager()
    exercise_id = service.exercise(author)
    service.edit(exercise_id, author, title="Second")
    response = service.client.put(
        f"/exercises/{exercise_id}",
        json={"editor_id": author, "title": "Third", "expected_version": 1},
    )
    assert response.status_code == 409
    body = response.json()
    assert (body["error"], body["current_version"], body["field"]) == (
        "VersionConflict",
        2,
        "expected_version",
    )
    assert len(service.staged("ExerciseUpdated")) == 1


def test_an_edit_that_changes_nothing_is_refused_with_422_naming_the_fields(
    service: Service,
) -> None:
    author = service.manager()
    exercise_id = service.exercise(author, title="Sum")
    same = service.client.put(
        f"/exercises/{exercise_id}", json={"editor_id": author, "title": "Sum"}
    )
    assert same.status_code == 422
    assert same.json()["detail"].startswith("title")
    empty = service.client.put(f"/exercises/{exercise_id}", json={"editor_id": author})
    assert empty.status_code == 422
    assert "accepted_answers" in empty.json()["detail"]
    assert service.staged("ExerciseUpdated") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"statement": "x" * 20_001}, "statement"),
        ({"accepted_answers": []}, "accepted_answers"),
        ({"accepted_answers": [str(i) for i in range(21)]}, "accepted_answers"),
        ({"accepted_answers": ["x" * 10_001]}, "accepted_answers"),
        ({"check_mode": "fuzzy"}, "check_mode"),
    ],
)
def test_malformed_exercise_fields_are_refused_with_422_naming_the_field(
    service: Service, body: dict[str, object], field: str
) -> None:
    author = service.manager()
    full = {"author_id": author, "title": "T", "statement": "S", "accepted_answers": ["a"], **body}
    response = service.client.post("/exercises", json=full)
    assert response.status_code == 422
    assert field in str(response.json()["detail"])


def test_a_manager_needs_a_name_and_a_real_email(service: Service) -> None:
    for body, field in (
        ({"name": "", "email": "a@school.example"}, "name"),
        ({"name": "Anna", "email": "not an email"}, "email"),
        ({"name": "Anna", "email": "anna@localhost"}, "email"),
    ):
        response = service.client.post("/managers", json=body)
        assert response.status_code == 422
        assert field in str(response.json()["detail"])
    manager_id = service.manager()
    assert service.client.patch(f"/managers/{manager_id}", json={}).status_code == 422
    assert service.client.patch("/managers/nobody", json={"name": "X"}).status_code == 404
