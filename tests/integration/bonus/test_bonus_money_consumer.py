"""Money events become exactly one ledger entry each, whatever is redelivered or re-emitted."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from integration.bonus.bonus_support import (
    Bonus,
    bonus_added,
    counter,
    envelope,
    fine_added,
    payment_commited,
)
from teacher_hiring.bonus.adapters.repository import BonusRepository
from teacher_hiring.bonus.domain.commands import CreditBonus
from teacher_hiring.bonus.domain.errors import BusinessKeyConflict
from teacher_hiring.bonus.domain.model import EventSource
from teacher_hiring.bonus.service_layer import handlers
from teacher_hiring.messaging.unit_of_work import UnitOfWork

pytestmark = pytest.mark.integration

DUPLICATES = "ledger_duplicate_business_keys_total"
PROCESSED = "events_processed_total"
PROCESSED_LABELS = {
    "service": "bonus",
    "consumer": "bonus.money",
    "event_name": "BonusAdded",
    "outcome": "duplicate",
}


def entries(bonus: Bonus, manager_id: str) -> list[dict[str, Any]]:
    page = bonus.http.get(f"/accounts/{manager_id}/entries", params={"limit": 500}).json()
    return list(page["items"])


def test_each_money_event_becomes_one_entry_with_its_sign_and_business_key(bonus: Bonus) -> None:
    bonus_event = envelope("BonusAdded", bonus_added("anna", 1400))
    fine_event = envelope("FineAdded", fine_added("anna", 500))
    payment_event = envelope("PaymentCommited", payment_commited("anna", 3000))
    bonus.publish(bonus_event, fine_event, payment_event)

    assert bonus.consume() == 3

    by_kind = {entry["kind"]: entry for entry in entries(bonus, "anna")}
    assert by_kind["bonus"]["amount_cents"] == 1400
    assert by_kind["bonus"]["business_key"] == f"bonus:{bonus_event.payload['submission_id']}"
    assert by_kind["fine"]["amount_cents"] == -500
    assert by_kind["fine"]["business_key"] == f"fine:{fine_event.payload['submission_id']}"
    assert by_kind["payment"]["amount_cents"] == 3000
    assert by_kind["payment"]["business_key"] == f"payment:{payment_event.payload['assignment_id']}"
    assert bonus.http.get("/accounts/anna").json()["balance_cents"] == 1400 - 500 + 3000


def test_every_entry_names_its_source_event_producer_and_trace(bonus: Bonus) -> None:
    event = envelope("PaymentCommited", payment_commited("anna"))
    bonus.publish(event)
    bonus.consume()

    (entry,) = entries(bonus, "anna")
    assert entry["source"] == {
        "event_id": event.event_id,
        "event_name": "PaymentCommited",
        "producer": "exercises",
        "trace_id": event.trace_id,
    }
    assert entry["details"]["assignment_id"] == event.payload["assignment_id"]


def test_the_same_event_delivered_twice_makes_one_entry(bonus: Bonus) -> None:
    event = envelope("BonusAdded", bonus_added("anna"))
    business_key_hits = counter(DUPLICATES, service="bonus", kind="bonus")
    inbox_hits = counter(PROCESSED, **PROCESSED_LABELS)
    bonus.publish(event, event)
    bonus.consume()
    bonus.publish(event)  # redelivered later, after the first was committed
    bonus.consume()

    assert len(entries(bonus, "anna")) == 1
    # The inbox absorbed both, before the business key had to:
    assert counter(PROCESSED, **PROCESSED_LABELS) == inbox_hits + 2
    assert counter(DUPLICATES, service="bonus", kind="bonus") == business_key_hits
    assert bonus.http.get("/accounts/anna").json()["balance_cents"] == 1400


def test_the_same_business_key_under_a_new_event_id_makes_one_entry_and_is_counted(
    bonus: Bonus,
) -> None:
    payload = fine_added("anna", 500)
    first, reemitted = envelope("FineAdded", payload), envelope("FineAdded", payload)
    assert first.event_id != reemitted.event_id
    before = counter(DUPLICATES, service="bonus", kind="fine")

    bonus.publish(first, reemitted)
    bonus.consume()

    (entry,) = entries(bonus, "anna")
    assert entry["source"]["event_id"] == first.event_id
    assert counter(DUPLICATES, service="bonus", kind="fine") == before + 1
    assert bonus.dead_letters("money") == []


def test_the_same_business_key_with_another_amount_is_dead_lettered_not_applied(
    bonus: Bonus,
) -> None:
    payload = bonus_added("anna", 1400)
    original = envelope("BonusAdded", payload)
    tampered = envelope("BonusAdded", {**payload, "amount_cents": 9900})
    other_manager = envelope("BonusAdded", {**payload, "manager_id": "boris"})
    bonus.publish(original)
    bonus.consume()
    # Another manager's events travel on another partition: publish them after the original.
    bonus.publish(tampered, other_manager)

    assert bonus.consume() == 2

    assert [entry["amount_cents"] for entry in entries(bonus, "anna")] == [1400]
    assert bonus.http.get("/accounts/boris").status_code == 404
    dead = bonus.dead_letters("money")
    assert len(dead) == 2
    assert all("BusinessKeyConflict" in record.headers["dlq_error"] for record in dead)
    assert all(record.headers["dlq_reason"] == "failed" for record in dead)


def test_a_conflicting_business_key_raises_a_named_error(bonus: Bonus) -> None:
    source = EventSource("e-1", "BonusAdded", "hiring", "t-1")
    command = CreditBonus("anna", 1400, "s-1", "c-1", "ex-1", 1, 3, 40, 2, "2025-03-14T10:00:00Z")
    engine = bonus.runtime.engine
    handlers.record_money(command, source, UnitOfWork(engine, BonusRepository))

    changed = CreditBonus("anna", 1401, "s-1", "c-1", "ex-1", 1, 3, 40, 2, "2025-03-14T10:00:00Z")
    with pytest.raises(BusinessKeyConflict, match=r"bonus:s-1"):
        handlers.record_money(
            changed,
            EventSource("e-2", "BonusAdded", "hiring", "t-2"),
            UnitOfWork(engine, BonusRepository),
        )

    assert bonus.scalar("SELECT COUNT(*) FROM ledger") == 1


def test_a_float_amount_is_dead_lettered_and_never_rounded(bonus: Bonus) -> None:
    bonus.publish(envelope("BonusAdded", bonus_added("anna", 1400.0)))
    bonus.consume()

    assert bonus.scalar("SELECT COUNT(*) FROM ledger") == 0
    (dead,) = bonus.dead_letters("money")
    assert "InvalidAmount" in dead.headers["dlq_error"]


def test_a_money_event_for_an_unknown_manager_opens_the_account(bonus: Bonus) -> None:
    assert bonus.http.get("/accounts/newcomer").status_code == 404

    bonus.publish(envelope("FineAdded", fine_added("newcomer", 500)))
    bonus.consume()

    account = bonus.http.get("/accounts/newcomer").json()
    assert account["balance_cents"] == -500
    assert account["manager"] is None


def test_balance_is_the_sum_of_the_entries(bonus: Bonus) -> None:
    amounts = [1400, 1000, 2000]
    events = [envelope("BonusAdded", bonus_added("anna", cents)) for cents in amounts]
    events += [envelope("FineAdded", fine_added("anna", 500)) for _ in range(3)]
    events += [envelope("PaymentCommited", payment_commited("anna", 3000))]
    events += [envelope("BonusAdded", bonus_added("boris", 1100))]
    bonus.publish(*events)
    bonus.consume()

    anna = bonus.http.get("/accounts/anna").json()
    assert anna["balance_cents"] == sum(e["amount_cents"] for e in entries(bonus, "anna"))
    assert anna["balance_cents"] == 4400 - 1500 + 3000
    assert (anna["credits_cents"], anna["debits_cents"], anna["entries"]) == (7400, 1500, 7)
    totals = {m["manager_id"]: m for m in bonus.http.get("/ledger/totals").json()["items"]}
    assert totals["anna"] == {
        "manager_id": "anna",
        "bonus_cents": 4400,
        "fine_cents": 1500,
        "payment_cents": 3000,
        "bonus_count": 3,
        "fine_count": 3,
        "payment_count": 1,
        "balance_cents": 5900,
    }
    assert totals["boris"]["balance_cents"] == 1100
    listed = {a["manager_id"]: a for a in bonus.http.get("/accounts").json()}
    assert listed["anna"]["balance_cents"] == 5900
    assert listed["anna"]["fine_count"] == 3


def test_the_ledger_refuses_updates_and_deletes(bonus: Bonus) -> None:
    bonus.publish(envelope("BonusAdded", bonus_added("anna")))
    bonus.consume()

    with bonus.runtime.engine.begin() as conn, pytest.raises(sa.exc.DatabaseError):
        conn.execute(sa.text("UPDATE ledger SET amount_cents = 999999"))
    with bonus.runtime.engine.begin() as conn, pytest.raises(sa.exc.DatabaseError):
        conn.execute(sa.text("DELETE FROM ledger"))
    assert bonus.scalar("SELECT SUM(amount_cents) FROM ledger") == 1400
