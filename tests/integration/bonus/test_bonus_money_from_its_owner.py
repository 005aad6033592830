"""A money event counts only if it came on the topic its producer alone may write.

On the secured broker (docs/security.md) only hiring may write `money` (BonusAdded, FineAdded)
and only exercises `payments` (PaymentCommited). A service whose credentials leaked can write
its own topic and nothing else: a BonusAdded on `payments` or a PaymentCommited on `money` is
what such a writer could forge, whatever `producer` header it sets, and bonus dead-letters it
instead of paying."""

from __future__ import annotations

import pytest

from integration.bonus.bonus_support import (
    Bonus,
    bonus_added,
    envelope,
    fine_added,
    payment_commited,
)
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.transport import OutgoingMessage
from teacher_hiring.messaging.wire import RecordCodec

pytestmark = pytest.mark.integration


def forge(bonus: Bonus, topic: str, event: Envelope) -> None:
    """Append the event to `topic`, whatever topic the catalogue gives it, laid out and with the
    headers (`producer` among them) its real producer's relay would write."""
    value, headers = RecordCodec(bonus.runtime.registry).encode(event)
    bonus.log.producer().send([OutgoingMessage(topic, event.payload["manager_id"], value, headers)])


def test_money_events_on_another_producers_topic_are_dead_lettered_and_pay_nothing(
    bonus: Bonus,
) -> None:
    genuine_bonus = envelope("BonusAdded", bonus_added("anna", 1400))
    genuine_payment = envelope("PaymentCommited", payment_commited("anna", 3000))
    bonus.publish(genuine_bonus, genuine_payment)
    forged_by_exercises = [
        envelope("BonusAdded", bonus_added("anna", 99_900)),
        envelope("FineAdded", fine_added("boris", 500)),
    ]
    forged_by_hiring = envelope("PaymentCommited", payment_commited("anna", 77_700))
    for event in forged_by_exercises:
        forge(bonus, "payments", event)
    forge(bonus, "money", forged_by_hiring)

    bonus.consume()

    assert bonus.http.get("/accounts/anna").json()["balance_cents"] == 1400 + 3000
    assert bonus.http.get("/accounts/boris").status_code == 404, "no money: no account"
    page = bonus.http.get("/operator/dead-letters", params={"order": "offset"}).json()
    by_event = {item["event_id"]: item for item in page["items"]}
    assert by_event.keys() == {e.event_id for e in (*forged_by_exercises, forged_by_hiring)}
    assert {item["reason"] for item in page["items"]} == {"wrong_producer"}
    bonus_letter = by_event[forged_by_exercises[0].event_id]
    assert bonus_letter["error"] == (
        "BonusAdded came on topic payments, which only exercises may write; "
        "its producer hiring writes it to money only"
    )
    payment_letter = by_event[forged_by_hiring.event_id]
    assert (
        "PaymentCommited came on topic money, which only hiring may write"
        in (payment_letter["error"])
    )
