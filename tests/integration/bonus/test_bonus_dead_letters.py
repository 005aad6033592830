"""The bonus service's dead letters over HTTP (`/operator/dead-letters`), on SQLite and
PostgreSQL: a poison record and a money event the ledger refuses (its business key is already
there with another amount), listed, shown, dry-run replayed, replayed, counted, purged."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from integration.bonus.bonus_support import Bonus, bonus_added, envelope
from teacher_hiring.messaging import metrics
from teacher_hiring.messaging.transport import OutgoingMessage

pytestmark = pytest.mark.integration

PATH = "/operator/dead-letters"
POISON = b'{"event_name": "BonusAdded", "payload": '


def pending_gauge(bonus: Bonus) -> str:
    metrics = bonus.http.get("/metrics").text
    lines = [line for line in metrics.splitlines() if line.startswith("dead_letters_pending{")]
    return next(line for line in lines if 'topic="money"' in line)


@pytest.fixture
def dead(bonus: Bonus) -> dict[str, Any]:
    """Two dead letters on `money`: the conflicting re-emission, then the poison."""
    first = envelope("BonusAdded", bonus_added("anna", 1400, submission_id="s-1"))
    conflicting = envelope("BonusAdded", bonus_added("anna", 900, submission_id="s-1"))
    bonus.publish(first, conflicting)
    bonus.log.producer().send([OutgoingMessage("money", "anna", POISON)])
    bonus.consume()
    page = bonus.http.get(PATH, params={"order": "offset"}).json()
    assert page["total"] == 2, page
    by_reason = {item["reason"]: item for item in page["items"]}
    return {"conflicting": conflicting, **by_reason, "page": page}


def test_dead_letters_are_listed_and_shown_with_the_error_and_the_original_event(
    bonus: Bonus, dead: dict[str, Any]
) -> None:
    page = dead["page"]
    assert page["topics"]["money"] == {"dead_letters": 2, "pending": 2, "other_services": 0}
    assert page["topics"].keys() == {"money", "payments", "task-ratings", "managers"}
    failed = dead["failed"]
    assert failed["consumer"] == "bonus.money" and failed["attempts"] == 2
    assert failed["event_id"] == dead["conflicting"].event_id
    assert failed["status"] == "pending"
    assert "BusinessKeyConflict" in failed["error"]

    shown = bonus.http.get(f"{PATH}/money/{failed['id']}").json()
    assert shown["event"]["payload"]["amount_cents"] == 900
    assert shown["raw"] is None and shown["key"] == "anna"
    assert shown["headers"]["dlq_reason"] == "failed"
    poison = bonus.http.get(f"{PATH}/money/{dead['invalid']['id']}").json()
    assert poison["event"] is None and poison["raw"] == POISON.decode()
    assert "not valid JSON" in poison["parse_error"]

    only = bonus.http.get(PATH, params={"group": "bonus.money", "status": "pending", "limit": 1})
    assert only.json()["total"] == 2 and len(only.json()["items"]) == 1
    assert bonus.http.get(PATH, params={"group": "bonus.ratings"}).json()["total"] == 0
    assert pending_gauge(bonus).endswith(" 2.0")


REFUSALS = [
    ("GET", f"{PATH}?topic=nope", None, 404, "topic: 'nope' is not a topic bonus consumes"),
    ("GET", f"{PATH}?group=hiring.exercises", None, 422, "group: 'hiring.exercises' is not"),
    ("GET", f"{PATH}/nope/0:0", None, 404, "topic: 'nope' is not a topic"),
    ("GET", f"{PATH}/money/zero", None, 422, "dead_letter_id: 'zero' is not <partition>"),
    ("GET", f"{PATH}/money/99:0", None, 422, "dead_letter_id: partition 99 does not exist"),
    ("POST", f"{PATH}/replay", {"ids": ["0:0"]}, 422, "topic: required when ids are given"),
    ("POST", f"{PATH}/replay", {"topic": "money", "ids": ["x"]}, 422, "ids: 'x' is not"),
    ("POST", f"{PATH}/replay", {"group": "nope"}, 422, "group: 'nope' is not a consumer group"),
    ("POST", f"{PATH}/purge", {"topic": "nope"}, 404, "topic: 'nope' is not a topic"),
    ("POST", f"{PATH}/purge", {"topic": "money", "up_to": "1"}, 422, "up_to: '1' is not"),
    ("POST", f"{PATH}/purge", {"topic": "money", "up_to": "0:99"}, 422, "up_to: offset 99 is"),
    ("POST", f"{PATH}/purge", {"topic": "money"}, 409, "force: 2 dead letters of money"),
]


def test_a_refusal_is_a_4xx_naming_the_field_and_changes_nothing(
    bonus: Bonus, dead: dict[str, Any]
) -> None:
    end = sum(bonus.log.end_offsets("money").values())
    for method, path, request_body, status, detail in REFUSALS:
        answer = bonus.http.request(method, path, json=request_body)
        assert (answer.status_code, answer.json()["detail"][: len(detail)]) == (status, detail), (
            method,
            path,
            answer.text,
        )
    assert bonus.http.get(PATH).json()["total"] == 2
    assert sum(bonus.log.end_offsets("money").values()) == end


def test_an_invalid_query_is_refused_by_its_schema_naming_the_parameter(bonus: Bonus) -> None:
    answer = bonus.http.get(PATH, params={"status": "lost", "limit": 0})
    assert answer.status_code == 422
    assert {tuple(error["loc"]) for error in answer.json()["detail"]} == {
        ("query", "status"),
        ("query", "limit"),
    }


def test_a_replay_is_a_dry_run_unless_told_and_a_refused_event_comes_back(
    bonus: Bonus, dead: dict[str, Any]
) -> None:
    end = sum(bonus.log.end_offsets("money").values())
    dry = bonus.http.post(f"{PATH}/replay", json={"topic": "money"}).json()
    assert dry["dry_run"] is True and dry["published"] == 0
    assert {d["id"]: d["outcome"] for d in dry["decisions"]} == {
        dead["failed"]["id"]: "would apply",
        dead["invalid"]["id"]: "still invalid",
    }
    assert sum(bonus.log.end_offsets("money").values()) == end

    real = bonus.http.post(f"{PATH}/replay", json={"topic": "money", "dry_run": False}).json()
    assert real["published"] == 1
    assert sum(bonus.log.end_offsets("money").values()) == end + 1
    bonus.consume()  # the ledger refuses it again: the same business key, another amount
    page = bonus.http.get(PATH, params={"order": "offset"}).json()
    assert page["total"] == 3
    back = page["items"][-1]
    assert back["event_id"] == dead["conflicting"].event_id and back["status"] == "pending"
    assert back["replay_of"] == f"money.dlq:{dead['failed']['id']}"
    statuses = {item["id"]: item["status"] for item in page["items"]}
    assert statuses[dead["failed"]["id"]] == "replayed"
    assert bonus.http.get("/accounts/anna").json()["balance_cents"] == 1400


def test_a_forced_purge_drops_them_and_the_gauge_falls_to_zero(
    bonus: Bonus, dead: dict[str, Any]
) -> None:
    refused = bonus.http.post(f"{PATH}/purge", json={"topic": "money"})
    assert refused.status_code == 409
    assert len(refused.json()["unhandled"]) == 2
    done = bonus.http.post(f"{PATH}/purge", json={"topic": "money", "force": True})
    assert done.status_code == 200, done.text
    assert done.json()["purged"] == 2 and done.json()["forced"] is True
    assert bonus.http.get(PATH).json()["total"] == 0
    assert pending_gauge(bonus).endswith(" 0.0")
    missing = bonus.http.get(f"{PATH}/money/{dead['failed']['id']}")
    assert missing.status_code == 404 and missing.json()["error"] == "DeadLetterNotFound"


def test_the_maintenance_loop_counts_the_pending_dead_letters(
    bonus: Bonus, dead: dict[str, Any]
) -> None:
    metrics.DEAD_LETTERS_PENDING.labels("bonus", "money").set(-1)
    runtime = bonus.runtime
    runtime.maintenance_interval_s = 0.01
    stop = threading.Event()
    loop = threading.Thread(target=runtime._maintain, args=(stop,))
    loop.start()
    try:
        deadline = time.monotonic() + 20
        while not pending_gauge(bonus).endswith(" 2.0"):
            assert time.monotonic() < deadline, pending_gauge(bonus)
            time.sleep(0.02)
    finally:
        stop.set()
        loop.join(10)
