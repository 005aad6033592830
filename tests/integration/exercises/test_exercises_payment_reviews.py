"""Complication payments earned mostly on the assignee's own candidates wait for an operator.

A leak report of v2 names the candidates whose completions counted, with who registered each
and from where. When the assignee's save closes the assignment and more than half of them were
the assignee's own (registered by them, or from an address the assignee's own requests came
from), the payment is held: no PaymentCommited until an operator approves it, then exactly one;
a rejected one is never paid. Payments that pass the check are paid at once, as before, and so
are those of reports made before v2 (no evidence). On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from integration.credentials import OPERATOR, SERVICE, as_manager
from integration.exercises.exercises_support import Service, leak_event
from integration.exercises.payment_reviews_support import (
    MANAGERS_ADDRESS,
    ORIGINS,
    completions,
    complicate,
    from_address,
    held,
    issued_payments,
    leak_v2,
    own_exercise,
    paid,
    reported,
)
from integration.http_server import serving
from teacher_hiring.cli.main import app
from teacher_hiring.exercises.adapters import tables
from teacher_hiring.exercises.bootstrap import bootstrap
from teacher_hiring.exercises.entrypoints.consumers import COMPLETIONS_GROUP
from teacher_hiring.exercises.settings import ExercisesSettings
from teacher_hiring.foundation.ports import free_port

pytestmark = pytest.mark.integration

REVIEWS = "/operator/payment-reviews"


def test_a_payment_earned_mostly_on_candidates_the_assignee_registered_is_held(
    service: Service,
) -> None:
    author, review = held(service)

    assert paid(service) == []
    assert review["status"] == "pending"
    assert (review["manager_id"], review["amount_cents"]) == (author, 3000)
    counts = [review[k] for k in ("completions", "own_completions", "registered_by_manager")]
    assert counts == [11, 6, 6]
    assert sum(c["registered_by_manager"] for c in review["completed_by"]) == 6
    assignment = service.ok("GET", f"/assignments/{review['assignment_id']}")
    assert assignment["status"] == "closed"  # the work is done; only the money waits
    assert issued_payments(service) == 0
    [pending] = service.ok("GET", REVIEWS, params={"status": "pending"})
    assert pending["id"] == review["id"]


def test_candidates_who_registered_from_the_assignees_address_count_as_their_own(
    service: Service,
) -> None:
    author, exercise_id = own_exercise(service)
    mine = ORIGINS.of_address(MANAGERS_ADDRESS)
    reported(service, exercise_id, author, completions(6, 5, origin=mine))

    saved = complicate(service, exercise_id, author)

    [review_id] = saved["held_review_ids"]
    review = service.ok("GET", f"{REVIEWS}/{review_id}")
    assert [review["same_origin"], review["registered_by_manager"]] == [6, 0]
    assert paid(service) == []


def test_half_or_fewer_own_completions_are_paid_at_once(service: Service) -> None:
    author, exercise_id = own_exercise(service)
    reported(service, exercise_id, author, completions(5, 5, registered_by=author))

    saved = complicate(service, exercise_id, author)

    assert saved["held_review_ids"] == [] and len(saved["closed_assignment_ids"]) == 1
    [payment] = paid(service)
    assert (payment["manager_id"], payment["amount_cents"]) == (author, 3000)
    assert service.ok("GET", REVIEWS) == []


def test_approving_publishes_the_payment_once_however_often_it_is_approved(
    service: Service,
) -> None:
    author, review = held(service)
    approve = f"{REVIEWS}/{review['id']}/approve"

    first = service.ok("POST", approve, json={"reason": "known school group"})
    again = service.ok("POST", approve)

    [payment] = paid(service)
    assert payment | {"occurred_at": None} == {
        "manager_id": author,
        "amount_cents": 3000,
        "assignment_id": review["assignment_id"],
        "exercise_id": review["exercise_id"],
        "exercise_version": 2,
        "occurred_at": None,
    }
    assert first["status"] == "approved" and first["decided_by"] == "operator"
    assert first["payment_id"] is not None and again == first
    totals = {t["manager_id"]: t for t in service.ok("GET", "/totals/issued")}
    assert (totals[author]["payment_cents"], issued_payments(service)) == (3000, 1)
    refused = service.client.post(f"{REVIEWS}/{review['id']}/reject", json={"reason": "late"})
    assert refused.status_code == 409 and "approved" in refused.json()["detail"]


def test_two_approvals_at_once_pay_once(service: Service) -> None:
    _, review = held(service)
    approve = f"{REVIEWS}/{review['id']}/approve"

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: service.client.post(approve), range(2)))

    assert [a.status_code for a in answers] == [200, 200]
    assert {a.json()["payment_id"] for a in answers} != {None}
    assert len({a.json()["payment_id"] for a in answers}) == 1
    assert len(paid(service)) == 1


def test_a_rejected_payment_is_never_paid_and_keeps_its_reason(service: Service) -> None:
    _, review = held(service)
    reject = f"{REVIEWS}/{review['id']}/reject"

    rejected = service.ok("POST", reject, json={"reason": "farmed with own candidates"})
    again = service.ok("POST", reject, json={"reason": "said twice"})
    approved = service.client.post(f"{REVIEWS}/{review['id']}/approve")

    assert (rejected["status"], rejected["reason"]) == ("rejected", "farmed with own candidates")
    assert again == rejected
    assert approved.status_code == 409
    assert paid(service) == [] and issued_payments(service) == 0
    assert service.ok("GET", f"/assignments/{review['assignment_id']}")["status"] == "closed"


def test_a_rejection_without_a_reason_is_refused_naming_it(service: Service) -> None:
    _, review = held(service)

    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = service.client.post(f"{REVIEWS}/{review['id']}/reject", json=body)
        assert response.status_code == 422, body
        assert "reason" in response.text
    assert service.ok("GET", f"{REVIEWS}/{review['id']}")["status"] == "pending"
    missing = service.client.post(f"{REVIEWS}/{uuid.uuid4()}/approve")
    assert missing.status_code == 404 and "review_id" in missing.json()["detail"]


def test_a_report_made_before_v2_carries_no_evidence_and_is_paid_as_before(
    service: Service,
) -> None:
    author, exercise_id = own_exercise(service)
    service.send(leak_event(exercise_id, author))  # v1: names no completions
    assert service.consume(COMPLETIONS_GROUP) == 1

    saved = complicate(service, exercise_id, author)

    assert saved["held_review_ids"] == []
    assert [p["manager_id"] for p in paid(service)] == [author]


def origins_of(service: Service, manager_id: str) -> set[str]:
    table = tables.manager_origins
    query = sa.select(table.c.origin).where(table.c.manager_id == manager_id)
    with service.runtime.engine.connect() as conn:
        return set(conn.execute(query).scalars())


def test_a_forwarded_address_counts_only_with_a_valid_proof(service: Service) -> None:
    """Only the platform's processes can say a request came from someone else's address."""
    author = service.manager()
    other_origin = ORIGINS.of_address("192.0.2.99")
    assert other_origin is not None
    forged = as_manager(author) | {
        "X-Client-Origin": other_origin,
        "X-Client-Origin-Proof": "0" * 64,
    }
    another_token = ORIGINS.proof(other_origin, "another token")
    replayed = as_manager(author) | {
        "X-Client-Origin": other_origin,
        "X-Client-Origin-Proof": another_token,
    }
    body = {"author_id": author, "title": "T", "statement": "S", "accepted_answers": ["1"]}

    for headers in (forged, replayed):
        assert service.client.post("/exercises", json=body, headers=headers).status_code == 201
    assert origins_of(service, author) == set()  # the test client's own address has none

    proven = from_address(author, "192.0.2.99")
    assert service.client.post("/exercises", json=body, headers=proven).status_code == 201
    assert origins_of(service, author) == {other_origin}
    # an operator's request is not the manager's own
    service.ok("POST", "/exercises", json=body, headers=ORIGINS.forwarded("192.0.2.5", None))
    assert origins_of(service, author) == {other_origin}


@pytest.fixture
def on_sqlite(tmp_path: Path) -> Iterator[Service]:
    """The service on SQLite alone: the command's side is the same on both databases."""
    settings = ExercisesSettings(
        database_url=f"sqlite:///{tmp_path}/cli.db",
        event_log_url=f"sqlite:///{tmp_path}/cli-events.db",
        run_workers=False,
        exercise_updates_link="event",
        log_format="console",
    )
    with TestClient(bootstrap(settings), headers=OPERATOR) as client:
        service = Service(client)
        yield service
        service.close()


def test_the_command_lists_approves_and_rejects_held_payments(on_sqlite: Service) -> None:
    service = on_sqlite
    _, first = held(service)
    _, second = held(service)
    runner = CliRunner()
    with serving(service.client.app, free_port()) as url:  # type: ignore[arg-type]
        listed = runner.invoke(app, ["payments", "reviews", "--exercises-url", url])
        approved = runner.invoke(app, ["payments", "approve", first["id"], "--exercises-url", url])
        twice = runner.invoke(app, ["payments", "approve", first["id"], "--exercises-url", url])
        rejected = runner.invoke(
            app,
            [
                "payments",
                "reject",
                second["id"],
                "--reason",
                "own candidates",
                "--exercises-url",
                url,
            ],
        )
        refused = runner.invoke(app, ["payments", "approve", second["id"], "--exercises-url", url])
        left = runner.invoke(app, ["payments", "reviews", "--exercises-url", url])

    assert listed.exit_code == 0 and first["id"] in listed.output and second["id"] in listed.output
    assert "6 / 11" in listed.output
    assert approved.exit_code == 0 and "approved by operator" in approved.output
    assert twice.exit_code == 0 and len(paid(service)) == 1
    assert rejected.exit_code == 0 and "rejected" in rejected.output
    assert "own candidates" in rejected.output
    assert refused.exit_code == 1 and "409" in refused.output
    assert left.exit_code == 0 and "no pending payment reviews" in left.output


def test_the_synchronous_leak_report_carries_the_same_evidence(service: Service) -> None:
    """COMM-030 in sync mode: hiring calls with the v2 event's payload and id."""
    author, exercise_id = own_exercise(service)
    payload = leak_v2(exercise_id, author, completions(6, 5, registered_by=author))["payload"]
    opened = service.ok("POST", "/api/complicate_exercise", json=payload)
    assert opened["outcome"] == "opened"
    bad = dict(payload, completed_by=[{"candidate_id": "c", "origin": "not-a-hash"}])
    refused = service.client.post("/api/complicate_exercise", json=bad, headers=SERVICE)
    assert refused.status_code == 422 and "origin" in refused.text

    saved = complicate(service, exercise_id, author)

    assert len(saved["held_review_ids"]) == 1 and paid(service) == []
