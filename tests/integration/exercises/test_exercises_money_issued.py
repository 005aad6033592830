"""Exercises keeps the payments it issued after sending them, and re-sends one under its
original event id, on SQLite and PostgreSQL."""

from __future__ import annotations

import orjson
import pytest
import sqlalchemy as sa

from integration.exercises.exercises_support import Service, leak_event
from teacher_hiring.exercises.entrypoints.consumers import COMPLETIONS_GROUP
from teacher_hiring.messaging.tables import outbox

pytestmark = pytest.mark.integration


def paid(service: Service) -> tuple[str, dict[str, object]]:
    """An author paid for complicating their leaked exercise; the PaymentCommited envelope."""
    author = service.manager()
    exercise_id = service.exercise(author)
    service.send(leak_event(exercise_id, author))
    assert service.consume(COMPLETIONS_GROUP) == 1
    service.edit(exercise_id, author, accepted_answers=["43"], statement="Harder")
    [payment] = service.staged("PaymentCommited")
    return author, payment


def test_payments_issued_are_listed_and_stay_after_the_outbox_purge(service: Service) -> None:
    author, payment = paid(service)
    relay = service.runtime.relay
    assert relay.flush(timeout_s=10)
    relay.purge_sent(0)
    assert service.staged() == []

    body = service.ok("GET", "/operator/money-issued", params={"manager_id": author})
    assert body["producer"] == "exercises"
    assert body["next"] is None
    [item] = body["items"]
    assert (item["event_id"], item["event_name"]) == (payment["event_id"], "PaymentCommited")
    assert (item["manager_id"], item["amount_cents"]) == (author, 3000)
    assert item["payload"] == payment["payload"]


def test_a_payment_is_re_sent_under_its_original_event_id(service: Service) -> None:
    _, payment = paid(service)
    relay = service.runtime.relay
    assert relay.flush(timeout_s=10)

    result = service.ok(
        "POST", "/operator/money-issued/resend", json={"event_ids": [payment["event_id"]]}
    )
    assert result["items"] == [{"event_id": payment["event_id"], "outcome": "restaged"}]
    query = sa.select(outbox.c.body, outbox.c.sent_at).where(
        outbox.c.event_id == payment["event_id"]
    )
    with service.runtime.engine.connect() as conn:
        [(body, sent_at)] = conn.execute(query).all()
    assert (orjson.loads(body), sent_at) == (payment, None)

    assert relay.flush(timeout_s=10)
    ids = [e["event_id"] for e in service.log_records("payments")]
    assert ids.count(payment["event_id"]) == 2
