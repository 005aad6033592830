"""US-160 and US-170 on the producer side: the new fields over HTTP, and the operator's switch
between version 0 and version 1 of the exercise and manager events, at run time."""

from __future__ import annotations

from typing import Any

import pytest

from integration.exercises.exercises_support import Service, ServiceFactory

pytestmark = pytest.mark.integration

EXERCISE = {"title": "Sum", "statement": "What is 2 + 3?", "accepted_answers": ["5"]}


def versions(service: Service) -> dict[str, int]:
    return {f["family"]: f["version"] for f in service.ok("GET", "/operator/event-versions")}


def switch(service: Service, family: str, version: object) -> Any:
    return service.client.put(f"/operator/event-versions/{family}", json={"version": version})


# -- the new fields ------------------------------------------------------------------------------


def test_an_exercise_has_a_subject_and_a_difficulty_with_defaults(service: Service) -> None:
    author = service.manager()
    plain = service.ok("POST", "/exercises", json={"author_id": author, **EXERCISE})
    assert (plain["subject"], plain["difficulty"]) == ("general", 3)
    body = {"author_id": author, **EXERCISE, "subject": "mathematics", "difficulty": 2}
    maths = service.ok("POST", "/exercises", json=body)
    assert (maths["subject"], maths["difficulty"]) == ("mathematics", 2)

    created = service.staged("ExerciseCreated")
    assert [e["event_version"] for e in created] == [1, 1]
    assert created[1]["payload"]["subject"] == "mathematics"
    assert created[1]["payload"]["difficulty"] == 2


def test_an_edit_can_change_the_subject_and_difficulty_and_the_history_keeps_them(
    service: Service,
) -> None:
    author = service.manager()
    exercise_id = service.exercise(author)
    edited = service.edit(exercise_id, author, subject="physics", difficulty=5)
    assert (edited["version"], edited["subject"], edited["difficulty"]) == (2, "physics", 5)
    [update] = service.staged("ExerciseUpdated")
    assert (update["payload"]["subject"], update["payload"]["difficulty"]) == ("physics", 5)
    history = service.ok("GET", f"/exercises/{exercise_id}/versions")
    assert [(v["subject"], v["difficulty"]) for v in history] == [("general", 3), ("physics", 5)]
    same = service.client.put(
        f"/exercises/{exercise_id}", json={"editor_id": author, "subject": "physics"}
    )
    assert same.status_code == 422 and same.json()["detail"].startswith("subject")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject": "Mathematics"}, "subject"),
        ({"subject": ""}, "subject"),
        ({"subject": "a" * 51}, "subject"),
        ({"subject": "two words"}, "subject"),
        ({"difficulty": 0}, "difficulty"),
        ({"difficulty": 6}, "difficulty"),
        ({"difficulty": "hard"}, "difficulty"),
    ],
)
def test_a_bad_subject_or_difficulty_is_refused_with_422_naming_the_field(
    service: Service, body: dict[str, object], field: str
) -> None:
    author = service.manager()
    created = service.client.post("/exercises", json={"author_id": author, **EXERCISE, **body})
    assert created.status_code == 422
    assert created.json()["detail"][0]["loc"] == ["body", field]
    exercise_id = service.exercise(author)
    edited = service.client.put(f"/exercises/{exercise_id}", json={"editor_id": author, **body})
    assert edited.status_code == 422
    assert edited.json()["detail"][0]["loc"] == ["body", field]


def test_a_manager_has_a_first_and_last_name_and_a_team(service: Service) -> None:
    body = {"first_name": "Anna", "last_name": "Petrova", "email": "anna@school.example"}
    anna = service.ok("POST", "/managers", json=body)
    assert (anna["name"], anna["team"]) == ("Anna Petrova", None)
    joined = service.ok("PATCH", f"/managers/{anna['id']}", json={"team": "mathematics"})
    assert (joined["team"], joined["name"]) == ("mathematics", "Anna Petrova")
    left = service.ok("PATCH", f"/managers/{anna['id']}", json={"team": None})
    assert left["team"] is None
    teams = [e["payload"]["team"] for e in service.staged("ManagerUpdated")]
    assert teams == ["mathematics", None]


def test_the_old_manager_body_is_still_taken_and_its_name_split(service: Service) -> None:
    old = service.ok(
        "POST", "/managers", json={"name": "Anna Maria Petrova", "email": "anna@school.example"}
    )
    assert (old["first_name"], old["last_name"], old["name"]) == (
        "Anna",
        "Maria Petrova",
        "Anna Maria Petrova",
    )
    renamed = service.ok("PATCH", f"/managers/{old['id']}", json={"name": "Anna Smirnova"})
    assert (renamed["first_name"], renamed["last_name"]) == ("Anna", "Smirnova")
    single = service.ok("POST", "/managers", json={"name": "Madonna", "email": "m@school.example"})
    assert (single["first_name"], single["last_name"], single["name"]) == ("Madonna", "", "Madonna")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@school.example"}, "first_name"),
        ({"name": "Anna P", "first_name": "Anna", "email": "a@school.example"}, "name"),
        ({"first_name": "", "email": "a@school.example"}, "first_name"),
        ({"first_name": "Anna", "team": "", "email": "a@school.example"}, "team"),
        ({"first_name": "Anna", "team": "t" * 101, "email": "a@school.example"}, "team"),
    ],
)
def test_a_manager_body_that_names_no_one_or_twice_is_refused(
    service: Service, body: dict[str, str], field: str
) -> None:
    response = service.client.post("/managers", json=body)
    assert response.status_code == 422
    assert field in str(response.json()["detail"])
    assert service.staged("ManagerCreated") == []


# -- the producer's switch -----------------------------------------------------------------------


def test_new_deployments_produce_version_1_of_both_families(service: Service) -> None:
    families = service.ok("GET", "/operator/event-versions")
    assert [(f["family"], f["version"], f["versions"]) for f in families] == [
        ("exercise", 1, [0, 1]),
        ("manager", 1, [0, 1]),
    ]
    assert families[0]["events"] == ["ExerciseCreated", "ExerciseUpdated"]
    assert families[1]["switched_at"] is None


def test_at_version_0_the_events_carry_the_old_fields_only(make_service: ServiceFactory) -> None:
    service = make_service(exercise_events_version=0, manager_events_version=0)
    assert versions(service) == {"exercise": 0, "manager": 0}
    body = {"first_name": "Anna", "last_name": "Petrova", "team": "maths", "email": "a@s.example"}
    author = service.ok("POST", "/managers", json=body)["id"]
    body = {"author_id": author, **EXERCISE, "subject": "mathematics", "difficulty": 4}
    exercise = service.ok("POST", "/exercises", json=body)
    service.edit(exercise["id"], author, difficulty=5)

    [manager] = service.staged("ManagerCreated")
    assert manager["event_version"] == 0
    assert manager["payload"] == {
        "manager_id": author,
        "name": "Anna Petrova",
        "email": "a@s.example",
    }
    for event in service.staged("ExerciseCreated") + service.staged("ExerciseUpdated"):
        assert event["event_version"] == 0
        assert "subject" not in event["payload"] and "difficulty" not in event["payload"]
    # The service keeps the new fields all the same: only the events leave them out.
    shown = service.ok("GET", f"/exercises/{exercise['id']}")
    assert (shown["subject"], shown["difficulty"]) == ("mathematics", 5)


def test_switching_takes_effect_at_the_next_save_without_a_restart(
    make_service: ServiceFactory,
) -> None:
    service = make_service(exercise_events_version=0, manager_events_version=0)
    author = service.manager()
    first = service.exercise(author)

    switched = switch(service, "exercise", 1)
    assert switched.status_code == 200
    assert (switched.json()["version"], switched.json()["switched_at"] is not None) == (1, True)
    second = service.exercise(author)
    service.edit(first, author, title="Sum, again")
    assert switch(service, "manager", 1).status_code == 200
    service.ok("PATCH", f"/managers/{author}", json={"team": "maths"})

    created = {
        e["payload"]["exercise_id"]: e["event_version"] for e in service.staged("ExerciseCreated")
    }
    assert created == {first: 0, second: 1}
    assert [e["event_version"] for e in service.staged("ExerciseUpdated")] == [1]
    assert [e["event_version"] for e in service.staged("ManagerCreated")] == [0]
    assert [e["event_version"] for e in service.staged("ManagerUpdated")] == [1]

    back = switch(service, "exercise", 0)
    assert back.json()["version"] == 0
    service.exercise(author, title="Back at v0")
    assert service.staged("ExerciseCreated")[-1]["event_version"] == 0


def test_another_instance_of_the_service_follows_the_switch(
    make_service: ServiceFactory,
) -> None:
    one = make_service(exercise_events_version=0)
    other = make_service(exercise_events_version=0)
    assert switch(one, "exercise", 1).status_code == 200
    other.services.versions.flags.ttl_s = 0  # no waiting for the half-second cache
    assert versions(other)["exercise"] == 1


def test_a_bad_family_is_404_and_a_bad_version_422_naming_the_field(service: Service) -> None:
    unknown = switch(service, "candidate", 1)
    assert unknown.status_code == 404
    assert (unknown.json()["error"], unknown.json()["field"]) == ("UnknownEventFamily", "family")
    for version in (7, 2):
        refused = switch(service, "exercise", version)
        assert refused.status_code == 422
        assert refused.json()["field"] == "version"
        assert refused.json()["detail"].startswith("version:")
    for version in (-1, "one"):
        malformed = switch(service, "exercise", version)
        assert malformed.status_code == 422
        assert malformed.json()["detail"][0]["loc"] == ["body", "version"]
    assert versions(service) == {"exercise": 1, "manager": 1}
