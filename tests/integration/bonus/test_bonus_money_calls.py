"""POST /api/v0/money: the synchronous end of COMM-040, 050 and 080 (the old wiring).

A call books the money exactly as the money consumer does (same inbox name, same handler, same
business key), so the same event arriving by the call and by the log is one ledger entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from integration.bonus.bonus_support import (
    Bonus,
    bonus_added,
    envelope,
    fine_added,
    payment_commited,
    rating_changed,
)
from integration.credentials import AS_EXERCISES, AS_HIRING
from teacher_hiring.messaging.envelope import Envelope

pytestmark = pytest.mark.integration

MANAGER = "7c9e6679-7425-40de-944b-e07fc1f90ae7"

MONEY: list[tuple[str, Callable[..., dict[str, Any]], str]] = [
    ("BonusAdded", bonus_added, "bonus"),
    ("FineAdded", fine_added, "fine"),
    ("PaymentCommited", payment_commited, "payment"),
]


OWNER = {"BonusAdded": AS_HIRING, "FineAdded": AS_HIRING, "PaymentCommited": AS_EXERCISES}
"""The service each money event is taken from (its producer in schemas/events.yaml)."""


def call(bonus: Bonus, event: Envelope | dict[str, Any]) -> Any:
    body = event.to_json() if isinstance(event, Envelope) else orjson.dumps(event)
    name = event.event_name if isinstance(event, Envelope) else event["event_name"]
    return bonus.http.post("/api/v0/money", content=body, headers=OWNER[name])


def entries(bonus: Bonus) -> list[tuple[str, int, str]]:
    body = bonus.http.get(f"/accounts/{MANAGER}/entries").json()
    return [(e["kind"], e["amount_cents"], e["source"]["event_id"]) for e in body["items"]]


@pytest.mark.parametrize(("name", "payload", "kind"), MONEY, ids=[m[0] for m in MONEY])
def test_a_money_call_books_the_event_once_whichever_path_brings_it(
    bonus: Bonus, name: str, payload: Callable[..., dict[str, Any]], kind: str
) -> None:
    event = envelope(name, payload(MANAGER))

    first = call(bonus, event)
    again = call(bonus, event)
    bonus.publish(event)  # the same event by the log: a link switched under traffic
    consumed = bonus.consume()

    assert first.status_code == 200 and first.json() == {"applied": True, "outcome": "applied"}
    assert again.json() == {"applied": False, "outcome": "duplicate"}
    assert consumed == 1
    amount = event.payload["amount_cents"]
    assert entries(bonus) == [(kind, -amount if kind == "fine" else amount, event.event_id)]


def test_money_booked_from_the_log_first_is_a_duplicate_when_called_after(bonus: Bonus) -> None:
    event = envelope("BonusAdded", bonus_added(MANAGER))
    bonus.publish(event)
    bonus.consume()

    late = call(bonus, event)

    assert late.json() == {"applied": False, "outcome": "duplicate"}
    assert len(entries(bonus)) == 1


def test_the_same_money_re_sent_under_a_new_event_id_is_absorbed_by_its_business_key(
    bonus: Bonus,
) -> None:
    payload = bonus_added(MANAGER)
    first = call(bonus, envelope("BonusAdded", payload))
    second = call(bonus, envelope("BonusAdded", payload))

    assert first.json()["outcome"] == "applied"
    assert second.status_code == 200 and second.json()["outcome"] == "duplicate"
    assert len(entries(bonus)) == 1


def test_the_same_business_key_with_another_amount_is_refused_409_and_books_nothing(
    bonus: Bonus,
) -> None:
    payload = bonus_added(MANAGER)
    call(bonus, envelope("BonusAdded", payload))

    conflict = call(bonus, envelope("BonusAdded", {**payload, "amount_cents": 1}))

    assert conflict.status_code == 409
    assert conflict.json()["error"] == "BusinessKeyConflict"
    assert len(entries(bonus)) == 1
    assert bonus.scalar("SELECT count(*) FROM inbox") == 1  # the refused call claimed nothing


@pytest.mark.parametrize(
    ("body", "names"),
    [
        pytest.param(b"{not json", "not valid JSON", id="not-json"),
        pytest.param(
            envelope("BonusAdded", bonus_added(MANAGER, amount_cents="14.00")).as_dict(),
            "amount_cents",
            id="amount-not-cents",
        ),
        pytest.param(
            envelope("TaskRatingChanged", rating_changed("e-1", 40, 1)).as_dict(),
            "event_name",
            id="not-money",
        ),
    ],
)
def test_a_call_that_is_not_a_valid_money_event_is_refused_naming_the_problem(
    bonus: Bonus, body: bytes | dict[str, Any], names: str
) -> None:
    response = bonus.http.post(
        "/api/v0/money",
        content=body if isinstance(body, bytes) else orjson.dumps(body),
        headers=AS_HIRING,
    )

    assert response.status_code == 422, response.text
    assert names in response.json()["detail"]
    assert bonus.scalar("SELECT count(*) FROM ledger") == 0
    assert bonus.scalar("SELECT count(*) FROM inbox") == 0
