"""Helpers of the tests of complication payments held for review: a manager writing from their
own address, leak reports of v2 naming whose completions counted, the assignee's save."""

from __future__ import annotations

import os
import uuid
from typing import Any

from event_examples import example_envelope

from integration.credentials import as_manager
from integration.exercises.exercises_support import Service
from teacher_hiring.exercises.entrypoints.consumers import COMPLETIONS_GROUP
from teacher_hiring.foundation.time import now_rfc3339
from teacher_hiring.runtime.origins import Origins

ORIGINS = Origins(os.environ["TEACHER_HIRING_AUTH_SECRET"])
MANAGERS_ADDRESS = "203.0.113.7"
REVIEWS = "/operator/payment-reviews"


def from_address(manager_id: str, address: str) -> dict[str, str]:
    """The manager's token, with their address forwarded as the web pages forward it."""
    headers = as_manager(manager_id)
    token = headers["Authorization"].removeprefix("Bearer ")
    return headers | ORIGINS.forwarded(address, token)


def completions(
    own: int, others: int, *, registered_by: str | None = None, origin: str | None = None
) -> list[dict[str, Any]]:
    """`own` completions registered by `registered_by` or from `origin`, then `others` by
    strangers from elsewhere."""
    mine = [
        {"candidate_id": str(uuid.uuid4()), "registered_by": registered_by, "origin": origin}
        for _ in range(own)
    ]
    strangers = [
        {
            "candidate_id": str(uuid.uuid4()),
            "registered_by": None,
            "origin": ORIGINS.of_address(f"198.51.100.{n + 1}"),
        }
        for n in range(others)
    ]
    return mine + strangers


def leak_v2(exercise_id: str, author_id: str, completed_by: list[dict[str, Any]]) -> dict[str, Any]:
    event = example_envelope("ExerciseCompletedMoreThenTenTimes", 2)
    event["produced_at"] = now_rfc3339()
    event["payload"].update(
        exercise_id=exercise_id,
        exercise_version=1,
        author_id=author_id,
        candidate_id=completed_by[-1]["candidate_id"],
        completed_by=completed_by,
    )
    return event


def own_exercise(service: Service) -> tuple[str, str]:
    """A manager who writes an exercise from their own address (remembered as their origin)."""
    author = service.manager()
    body = {
        "author_id": author,
        "title": "Sum",
        "statement": "Statement of Sum",
        "accepted_answers": ["5"],
    }
    response = service.client.post(
        "/exercises", json=body, headers=from_address(author, MANAGERS_ADDRESS)
    )
    assert response.status_code == 201, response.text
    return author, str(response.json()["id"])


def reported(
    service: Service, exercise_id: str, author: str, evidence: list[dict[str, Any]]
) -> None:
    service.send(leak_v2(exercise_id, author, evidence))
    assert service.consume(COMPLETIONS_GROUP) == 1


def complicate(service: Service, exercise_id: str, manager_id: str) -> dict[str, Any]:
    """The assignee's save, sent from their address through the pages."""
    response = service.client.put(
        f"/exercises/{exercise_id}",
        json={"editor_id": manager_id, "statement": "Harder now"},
        headers=from_address(manager_id, MANAGERS_ADDRESS),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def held(service: Service, own: int = 6, others: int = 5) -> tuple[str, dict[str, Any]]:
    """An exercise whose leak came mostly from its author's own candidates, complicated by
    them: the payment's review."""
    author, exercise_id = own_exercise(service)
    reported(service, exercise_id, author, completions(own, others, registered_by=author))
    saved = complicate(service, exercise_id, author)
    [review_id] = saved["held_review_ids"]
    return author, service.ok("GET", f"{REVIEWS}/{review_id}")


def issued_payments(service: Service) -> int:
    """Payments issued as reconciliation reads them (GET /totals/issued)."""
    return sum(t["payment_count"] for t in service.ok("GET", "/totals/issued"))


def paid(service: Service) -> list[dict[str, Any]]:
    return [event["payload"] for event in service.staged("PaymentCommited")]
