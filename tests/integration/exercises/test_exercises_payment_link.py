"""COMM-080 in sync mode, the old wiring: the save that closes an assignment pays by a call.

The payment is committed with the save and then POSTed to bonus before the save answers; if
bonus fails the save answers 502, 503 or 504 naming bonus, the new version stays saved and the
payment waits in the outbox for the relay.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from integration.bonus.bonus_support import closed_port
from integration.exercises.exercises_support import Service, ServiceFactory
from integration.link_stand_in import Answer, StandIn, stand_in

pytestmark = pytest.mark.integration

__all__ = ["stand_in"]

MONEY = "/api/v0/money"


def leaked(service: Service) -> tuple[str, str]:
    """An author and their exercise, reported leaked: an open assignment for the author."""
    author = service.manager()
    exercise_id = service.exercise(author)
    report = {
        "exercise_id": exercise_id,
        "exercise_version": 1,
        "title": "Sum",
        "author_id": author,
        "candidate_id": str(uuid.uuid4()),
    }
    assert service.ok("POST", "/api/complicate_exercise", json=report)["created"] is True
    return author, exercise_id


def switch_payment(service: Service, mode: str) -> None:
    assert service.ok("PUT", "/operator/links/payment", json={"mode": mode})["mode"] == mode


def test_in_sync_mode_the_assignees_save_pays_by_calling_bonus_before_it_answers(
    make_service: ServiceFactory, stand_in: StandIn
) -> None:
    service = make_service(bonus_url=stand_in.url, call_timeout_s=0.3)
    switch_payment(service, "sync")
    author, exercise_id = leaked(service)

    saved = service.edit(exercise_id, author, statement="Harder")

    [payment] = service.staged("PaymentCommited")
    assert stand_in.events(MONEY) == [payment]
    assert stand_in.bodies(MONEY) == [payment["payload"]]
    assert payment["payload"]["assignment_id"] == saved["closed_assignment_ids"][0]
    assert not service.unsent(payment["event_id"])
    [update] = service.staged("ExerciseUpdated")
    assert service.unsent(update["event_id"])  # event mode: left to the relay


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        pytest.param(Answer(status=500), 502, id="bonus-answers-500"),
        pytest.param(None, 503, id="bonus-down"),
    ],
)
def test_when_bonus_fails_the_save_fails_naming_bonus_and_the_version_stays_saved(
    make_service: ServiceFactory, stand_in: StandIn, failure: Answer | None, status: int
) -> None:
    url = stand_in.url if failure is not None else f"http://127.0.0.1:{closed_port()}"
    if failure is not None:
        stand_in.answers[MONEY] = failure
    service = make_service(bonus_url=url, call_timeout_s=0.3)
    switch_payment(service, "sync")
    author, exercise_id = leaked(service)

    response = service.client.put(
        f"/exercises/{exercise_id}", json={"editor_id": author, "statement": "Harder"}
    )

    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["detail"].startswith("bonus: ") and body["service"] == "bonus"
    assert "waits in the outbox of exercises" in body["detail"]
    assert service.ok("GET", f"/exercises/{exercise_id}")["version"] == 2
    assert [a["status"] for a in service.assignments()] == ["closed"]
    [payment] = service.staged("PaymentCommited")
    assert service.unsent(payment["event_id"]) and body["event_id"] == payment["event_id"]


def test_in_event_mode_the_save_calls_nobody(
    make_service: ServiceFactory, stand_in: StandIn
) -> None:
    service = make_service(bonus_url=stand_in.url)
    author, exercise_id = leaked(service)

    service.edit(exercise_id, author, statement="Harder")

    assert stand_in.received == []
    [payment] = service.staged("PaymentCommited")
    assert service.unsent(payment["event_id"])
