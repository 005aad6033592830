"""Dead letters replayed on the distributed deployment as it runs by default: Kafka with SCRAM
over TLS, where only a topic's producer may write it (docs/security.md). Bonus may not write
`money`, so its replay is written by hiring, from hiring's own copy of each event.

The operator's whole round of test_dead_letters.py on this broker, then what a replay cannot
do here: write while the producer is down (503, nothing marked), or put back an event the
producer never sent, such as a bonus forged with hiring's leaked credentials (409, not paid).
"""

from __future__ import annotations

import uuid

import httpx
import orjson
import pytest

from e2e.platform_api import Api, eventually
from e2e.test_business_flow_on_a_secured_broker import platform
from e2e.test_dead_letters import (
    cli,
    dead_letters,
    frozen_ledger,
    send_to_money,
    solve,
    test_a_poison_event_and_a_failed_bonus_are_listed_replayed_once_and_purged,
)
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.wire import RecordCodec
from teacher_hiring.runtime.processes import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres]

__all__ = [
    "platform",
    "test_a_poison_event_and_a_failed_bonus_are_listed_replayed_once_and_purged",
]


def forged_copy(event: dict[str, object], amount_cents: int) -> tuple[bytes, dict[str, str]]:
    """The record of a bonus like `event`, under a new id and with another amount."""
    payload = dict(event["payload"])  # type: ignore[call-overload]
    payload["amount_cents"] = amount_cents
    forged = {**event, "event_id": str(uuid.uuid4()), "payload": payload}
    return RecordCodec(SchemaRegistry.load()).encode(Envelope.from_json(orjson.dumps(forged)))


def replay(api: Api) -> httpx.Response:
    body = {"topic": "money", "dry_run": False}
    return api.call("POST", "bonus", "/operator/dead-letters/replay", json=body)


def test_a_replay_is_written_by_the_producer_and_what_it_never_sent_is_refused(
    api: Api, platform: Platform
) -> None:
    author = api.manager()
    exercise_id = api.exercise(author, "ok")
    api.hiring_knows([exercise_id])

    with frozen_ledger(platform):
        solve(api, exercise_id, "During the freeze")
        real = eventually(
            lambda: (lambda d: d[0] if d else None)(dead_letters(api)),
            what="the failed bonus in money.dlq",
            timeout_s=60,
        )
        shown = api.ok("GET", "bonus", f"/operator/dead-letters/money/{real['id']}")
        value, headers = forged_copy(shown["event"], 999_999)
        send_to_money(platform, shown["key"], value, headers)
        found = eventually(
            lambda: (lambda d: d if len(d) == 2 else None)(dead_letters(api)),
            what="the forged bonus in money.dlq too",
            timeout_s=60,
        )
    forged = next(item for item in found if item["id"] != real["id"])
    assert api.entries(author) == []

    platform["hiring"].stop()
    try:
        down = replay(api)
        assert down.status_code == 503, down.text
        assert down.json()["detail"].startswith("producer: hiring could not be reached")
        statuses = {item["id"]: item["status"] for item in dead_letters(api)}
        assert statuses == {real["id"]: "pending", forged["id"]: "pending"}
        cli(platform, "replay", "money", "--apply", code=1)
    finally:
        platform["hiring"].start()
        platform["hiring"].wait_ready()

    refused = replay(api)
    assert refused.status_code == 409, refused.text
    answer = refused.json()
    assert answer["published"] == 1 and len(answer["refused"]) == 1
    assert answer["refused"][0].startswith(f"{forged['id']} of money.dlq (hiring does not hold")
    assert forged["event_id"] in answer["detail"]
    eventually(lambda: len(api.entries(author)) == 1, what="the real bonus credited")
    statuses = {item["id"]: item["status"] for item in dead_letters(api)}
    assert statuses[forged["id"]] == "pending"
    assert statuses[real["id"]] in {"replayed", "applied"}
    eventually(
        lambda: {i["id"]: i["status"] for i in dead_letters(api)}[real["id"]] == "applied",
        what="the real bonus's dead letter applied",
    )

    assert "published 0" in cli(platform, "replay", "money", real["id"], "--apply")
    entries = api.entries(author)
    assert [e["source"]["event_id"] for e in entries] == [real["event_id"]]
    assert api.ledger(author)["balance_cents"] == entries[0]["amount_cents"] < 999_999
