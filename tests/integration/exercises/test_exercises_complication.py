"""Leak reports open one complication assignment per version; the assignee's save pays once.

A report of v1 names the leaked version; one of v0 has it read from hiring (a stand-in here,
answering as hiring's records would), and is retried, never dropped, while hiring cannot say.
"""

from __future__ import annotations

import uuid

import pytest

from integration.credentials import SERVICE
from integration.exercises.exercises_support import Service, ServiceFactory, leak_event
from integration.link_stand_in import Answer, StandIn, stand_in
from teacher_hiring.exercises.entrypoints.consumers import COMPLETIONS_GROUP

pytestmark = pytest.mark.integration
__all__ = ["stand_in"]  # a fixture of the tests below


def completion_path(exercise_id: str, candidate_id: str) -> str:
    return f"/exercises/{exercise_id}/completions/{candidate_id}"


def hiring_says(
    stand_in: StandIn, exercise_id: str, candidate_id: str, version: int, *, leaked: bool = True
) -> None:
    """The stand-in answers for this completion as hiring's records would."""
    stand_in.answers[completion_path(exercise_id, candidate_id)] = Answer(
        body={
            "exercise_id": exercise_id,
            "candidate_id": candidate_id,
            "exercise_version": version,
            "leaked": leaked,
        }
    )


def leaked(service: Service) -> tuple[str, str]:
    """An author and their exercise, reported leaked through the event and consumed."""
    author = service.manager()
    exercise_id = service.exercise(author)
    service.send(leak_event(exercise_id, author))
    assert service.consume(COMPLETIONS_GROUP) == 1
    return author, exercise_id


def test_a_leak_report_opens_an_assignment_for_the_author_and_marks_the_exercise(
    service: Service,
) -> None:
    author, exercise_id = leaked(service)
    [assignment] = service.assignments()
    assert assignment["exercise_id"] == exercise_id
    assert (assignment["exercise_version"], assignment["status"]) == (1, "open")
    assert assignment["assignee_id"] == author
    assert service.ok("GET", f"/exercises/{exercise_id}")["status"] == "needs_complication"
    assert service.ok("GET", f"/managers/{author}")["open_assignments"] == 1
    assert service.staged("PaymentCommited") == []  # opening publishes nothing


def test_a_redelivered_or_repeated_leak_report_opens_one_assignment(service: Service) -> None:
    author = service.manager()
    exercise_id = service.exercise(author)
    first = leak_event(exercise_id, author)
    service.send(first, first)  # the same event id twice
    service.send(leak_event(exercise_id, author))  # a new report of the same version
    assert service.consume(COMPLETIONS_GROUP) == 3
    assert len(service.assignments()) == 1
    assert service.assignments()[0]["source_event_id"] == first["event_id"]


def test_the_assignees_save_closes_the_assignment_and_pays_exactly_once(
    service: Service,
) -> None:
    author, exercise_id = leaked(service)
    [assignment] = service.assignments(status="open")

    saved = service.edit(exercise_id, author, accepted_answers=["43"], statement="Harder")
    again = service.edit(exercise_id, author, statement="Harder still")

    assert saved["closed_assignment_ids"] == [assignment["id"]]
    assert (saved["version"], saved["status"]) == (2, "active")
    assert again["closed_assignment_ids"] == []
    closed = service.ok("GET", f"/assignments/{assignment['id']}")
    assert (closed["status"], closed["closed_with_version"]) == ("closed", 2)
    [payment] = service.staged("PaymentCommited")
    assert payment["payload"] | {"occurred_at": None} == {
        "manager_id": author,
        "amount_cents": 3000,
        "assignment_id": assignment["id"],
        "exercise_id": exercise_id,
        "exercise_version": 2,
        "occurred_at": None,
    }
    updates = service.staged("ExerciseUpdated")
    assert [e["payload"]["status"] for e in updates] == ["active", "active"]
    totals = {t["manager_id"]: t for t in service.ok("GET", "/totals/issued")}
    assert (totals[author]["payment_cents"], totals[author]["payment_count"]) == (3000, 1)


def test_someone_elses_edit_leaves_the_assignment_open_and_pays_nothing(
    service: Service,
) -> None:
    author, exercise_id = leaked(service)
    colleague = service.manager("Boris Ivanov")

    saved = service.edit(exercise_id, colleague, statement="Edited by a colleague")

    assert saved["version"] == 2 and saved["closed_assignment_ids"] == []
    assert saved["status"] == "needs_complication"
    assert service.staged("ExerciseUpdated")[-1]["payload"]["status"] == "needs_complication"
    assert service.assignments(status="open")[0]["assignee_id"] == author
    assert service.staged("PaymentCommited") == []
    paid = service.edit(exercise_id, author, statement="Complicated by the author")
    assert paid["status"] == "active" and len(paid["closed_assignment_ids"]) == 1
    assert len(service.staged("PaymentCommited")) == 1


def test_a_report_of_a_version_a_later_save_replaced_opens_nothing(service: Service) -> None:
    author = service.manager()
    exercise_id = service.exercise(author)
    service.edit(exercise_id, author, statement="Already complicated")  # version 2

    # hiring's clock far ahead: the time in the report decides nothing, its version does
    late = leak_event(exercise_id, author, version=1, produced_at="2999-01-01T00:00:00.000000Z")
    service.send(late)
    assert service.consume(COMPLETIONS_GROUP) == 1

    assert service.assignments() == []
    assert service.ok("GET", f"/exercises/{exercise_id}")["status"] == "active"


def test_a_report_of_the_current_version_opens_it_whatever_time_it_carries(
    service: Service,
) -> None:
    author = service.manager()
    exercise_id = service.exercise(author)
    service.edit(exercise_id, author, statement="Version 2")

    # hiring's clock far behind: the report looks older than version 2's save, and is not stale
    early = leak_event(exercise_id, author, version=2, produced_at="2001-01-01T00:00:00.000000Z")
    service.send(early)
    service.consume(COMPLETIONS_GROUP)

    [assignment] = service.assignments()
    assert (assignment["exercise_version"], assignment["source_event_id"]) == (2, early["event_id"])


def test_a_report_of_a_version_never_saved_here_is_retried_then_dead_lettered(
    make_service: ServiceFactory,
) -> None:
    service = make_service(consumer_max_attempts=2)
    author = service.manager()
    exercise_id = service.exercise(author)
    service.send(leak_event(exercise_id, author, version=3))
    service.consume(COMPLETIONS_GROUP)

    assert service.assignments() == []
    [dead] = service.dead_letters("exercise-completions")
    assert dead.headers["dlq_reason"] == "failed"
    assert "exercise_version" in dead.headers["dlq_error"]


# -- reports of v0, which name no version --------------------------------------------------------


def test_a_v0_report_opens_the_assignment_for_the_version_hiring_recorded(
    make_service: ServiceFactory, stand_in: StandIn
) -> None:
    service = make_service(hiring_url=stand_in.url)
    author = service.manager()
    exercise_id = service.exercise(author)
    candidate_id = str(uuid.uuid4())
    hiring_says(stand_in, exercise_id, candidate_id, 1)
    report = leak_event(exercise_id, author, version=None, candidate_id=candidate_id)

    service.send(report, report)
    service.consume(COMPLETIONS_GROUP)

    [assignment] = service.assignments()
    assert assignment["exercise_version"] == 1
    assert assignment["source_event_id"] == report["event_id"]
    asked = [path for method, path, _ in stand_in.received if method == "GET"]
    assert asked == [completion_path(exercise_id, candidate_id)]  # the answer is kept
    assert stand_in.authorizations[0].startswith("Bearer ")  # exercises' service token


def test_a_v0_report_of_a_version_a_later_save_replaced_opens_nothing(
    make_service: ServiceFactory, stand_in: StandIn
) -> None:
    service = make_service(hiring_url=stand_in.url)
    author = service.manager()
    exercise_id = service.exercise(author)
    service.edit(exercise_id, author, statement="Complicated before the report was read")
    candidate_id = str(uuid.uuid4())
    hiring_says(stand_in, exercise_id, candidate_id, 1)

    service.send(leak_event(exercise_id, author, version=None, candidate_id=candidate_id))
    service.consume(COMPLETIONS_GROUP)

    assert service.assignments() == []


def test_while_hiring_cannot_say_a_v0_report_is_retried_and_kept_then_replayed(
    make_service: ServiceFactory, stand_in: StandIn
) -> None:
    service = make_service(hiring_url=stand_in.url, consumer_max_attempts=3)
    author = service.manager()
    exercise_id = service.exercise(author)
    candidate_id = str(uuid.uuid4())
    path = completion_path(exercise_id, candidate_id)
    stand_in.answers[path] = Answer(status=503, body={"detail": "restarting"})
    report = leak_event(exercise_id, author, version=None, candidate_id=candidate_id)

    service.send(report)
    service.consume(COMPLETIONS_GROUP)

    assert service.assignments() == []
    assert len(stand_in.bodies(path)) >= 3  # asked again on every attempt
    [dead] = service.dead_letters("exercise-completions")
    assert dead.headers["dlq_reason"] == "failed" and "hiring" in dead.headers["dlq_error"]

    hiring_says(stand_in, exercise_id, candidate_id, 1)
    replay = {"topic": "exercise-completions", "dry_run": False}
    assert service.ok("POST", "/operator/dead-letters/replay", json=replay)["published"] == 1
    service.consume(COMPLETIONS_GROUP)

    [assignment] = service.assignments()
    assert assignment["exercise_version"] == 1
    assert assignment["source_event_id"] == report["event_id"]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (Answer(status=404, body={"detail": "candidate_id: has not solved it"}), "no such"),
        (None, "not leaked"),
    ],
)
def test_a_v0_report_hiring_does_not_confirm_opens_nothing_and_is_kept(
    make_service: ServiceFactory, stand_in: StandIn, answer: Answer | None, error: str
) -> None:
    service = make_service(hiring_url=stand_in.url, consumer_max_attempts=2)
    author = service.manager()
    exercise_id = service.exercise(author)
    candidate_id = str(uuid.uuid4())
    hiring_says(stand_in, exercise_id, candidate_id, 1, leaked=False)
    if answer is not None:
        stand_in.answers[completion_path(exercise_id, candidate_id)] = answer

    service.send(leak_event(exercise_id, author, version=None, candidate_id=candidate_id))
    service.consume(COMPLETIONS_GROUP)

    assert service.assignments() == []
    [dead] = service.dead_letters("exercise-completions")
    assert "LeakNotConfirmed" in dead.headers["dlq_error"] and error in dead.headers["dlq_error"]


def test_the_synchronous_call_without_a_version_asks_hiring_too(
    make_service: ServiceFactory, stand_in: StandIn
) -> None:
    service = make_service(hiring_url=stand_in.url)
    author = service.manager()
    exercise_id = service.exercise(author)
    candidate_id = str(uuid.uuid4())
    report = {"exercise_id": exercise_id, "title": "Sum", "author_id": author}
    report["candidate_id"] = candidate_id
    path = completion_path(exercise_id, candidate_id)
    stand_in.answers[path] = Answer(status=503)

    refused = service.client.post("/api/complicate_exercise", json=report, headers=SERVICE)
    assert refused.status_code == 502 and refused.json()["service"] == "hiring"
    del stand_in.answers[path]
    stand_in.stop()  # hiring gone altogether
    unreachable = service.client.post("/api/complicate_exercise", json=report, headers=SERVICE)
    assert unreachable.status_code == 503 and unreachable.json()["service"] == "hiring"
    assert service.assignments() == []


def test_with_the_least_loaded_policy_the_manager_with_fewest_open_assignments_is_assigned(
    make_service: ServiceFactory,
) -> None:
    service = make_service(complication_assignee="least_loaded")
    names = ("Anna", "Boris", "Vera")
    managers = sorted(service.manager(f"{name} Author") for name in names)
    exercises = [service.exercise(managers[0], title=f"E{i}") for i in range(3)]
    for exercise_id in exercises:
        service.send(leak_event(exercise_id, managers[0]))
        service.consume(COMPLETIONS_GROUP)
    assignees = [a["assignee_id"] for a in service.assignments()]
    assert assignees == managers  # 0 open each: lowest id first, then the next least loaded


def test_a_report_on_an_unknown_exercise_is_retried_then_dead_lettered(
    make_service: ServiceFactory,
) -> None:
    service = make_service(consumer_max_attempts=2)
    event = leak_event(str(uuid.uuid4()), str(uuid.uuid4()))
    service.send(event)
    assert service.consume(COMPLETIONS_GROUP) == 1
    assert service.assignments() == []
    dead = service.dead_letters("exercise-completions")
    assert len(dead) == 1 and dead[0].headers["dlq_reason"] == "failed"


def test_the_synchronous_call_opens_the_same_assignment_the_event_would(service: Service) -> None:
    author = service.manager()
    exercise_id = service.exercise(author)
    report = {"exercise_id": exercise_id, "title": "Sum", "author_id": author, "candidate_id": "c1"}
    report["exercise_version"] = 1

    first = service.ok("POST", "/api/complicate_exercise", json=report)
    repeated = service.ok("POST", "/api/complicate_exercise", json=report)

    assert first["created"] is True and first["outcome"] == "opened"
    assert repeated == {
        "assignment_id": first["assignment_id"],
        "created": False,
        "outcome": "duplicate",
    }
    [assignment] = service.assignments()
    assert assignment["id"] == first["assignment_id"]
    unknown = service.client.post(
        "/api/complicate_exercise", json={**report, "exercise_id": "x"}, headers=SERVICE
    )
    assert unknown.status_code == 404 and unknown.json()["field"] == "exercise_id"


def test_a_report_sent_by_call_and_then_as_event_applies_once(service: Service) -> None:
    author = service.manager()
    exercise_id = service.exercise(author)
    event = leak_event(exercise_id, author)
    body = {**event["payload"], "event_id": event["event_id"]}

    called = service.ok("POST", "/api/complicate_exercise", json=body)
    service.send(event)
    service.consume(COMPLETIONS_GROUP)
    # the assignment from the call is closed; were the event applied again it would open another
    service.edit(exercise_id, author, statement="Complicated")
    service.send(event)
    service.consume(COMPLETIONS_GROUP)

    assert called["created"] is True
    assert [a["id"] for a in service.assignments()] == [called["assignment_id"]]


def test_a_report_consumed_as_event_and_then_called_with_its_id_applies_once(
    service: Service,
) -> None:
    author = service.manager()
    exercise_id = service.exercise(author)
    event = leak_event(exercise_id, author)
    service.send(event)
    service.consume(COMPLETIONS_GROUP)
    service.edit(exercise_id, author, statement="Complicated")  # a new version, nothing open

    called = service.ok(
        "POST",
        "/api/complicate_exercise",
        json={**event["payload"], "event_id": event["event_id"]},
    )

    assert called["created"] is False and called["outcome"] == "duplicate"
    assert len(service.assignments()) == 1
    late = service.ok("POST", "/api/complicate_exercise", json=event["payload"])
    assert late["outcome"] == "stale"  # without the id, still a report of the replaced version
    fresh = {**event["payload"], "exercise_version": 2}
    assert service.ok("POST", "/api/complicate_exercise", json=fresh)["created"] is True
    assert len(service.assignments()) == 2
