"""Reconciliation finds money the ledger lost, a repair brings it back under the original event
ids, and repairing again doubles nothing, on both deployments.

The gap is a real fault made from outside: while bonus is stopped, a bonus, a fine and a
payment are issued and relayed; then the records of the money topics are deleted before bonus
read them, as retention would delete them from a consumer that stayed away too long (Kafka's
DeleteRecords, and the same on the embedded log).
"""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from e2e.platform_api import Api, eventually
from teacher_hiring.cli import app
from teacher_hiring.messaging.transport import Transport
from teacher_hiring.runtime.processes import Platform
from teacher_hiring.runtime.transports import make_transport

pytestmark = pytest.mark.e2e

RECOVERY_S = 60.0  # on Kafka a restarted member waits for its partitions
SIGNED = {"BonusAdded": 1, "FineAdded": -1, "PaymentCommited": 1}


@pytest.fixture
def platform_env() -> dict[str, str]:
    """Two completions pay, the third leaks the exercise (a fine and, once complicated, a
    payment); reconciliation's default window ends now, not a minute ago."""
    return {"HIRING_COMPLETIONS_BEFORE_COMPLICATION": "2", "BONUS_RECONCILIATION_SETTLE_S": "0"}


def issued(api: Api) -> dict[str, dict[str, Any]]:
    """Every money event hiring and exercises say they issued, by event id."""
    found: dict[str, dict[str, Any]] = {}
    for producer in ("hiring", "exercises"):
        page = api.ok("GET", producer, "/operator/money-issued", params={"limit": 1000})
        assert page["next"] is None
        found.update((item["event_id"], item) for item in page["items"])
    return found


def log_of(platform: Platform) -> Transport:
    deployment = platform.deployment
    return make_transport(
        deployment.event_log_url(),
        partitions=deployment.partitions,
        topic_prefix=deployment.topic_prefix,
    )


MONEY_TOPICS = ("money", "payments")
"""Bonuses and fines travel on `money`, payments on `payments` (schemas/events.yaml)."""


def money_on_the_log(platform: Platform) -> int:
    """How many records the money topics ever held (their end offsets, summed)."""
    transport = log_of(platform)
    try:
        return sum(sum(transport.end_offsets(topic).values()) for topic in MONEY_TOPICS)
    finally:
        transport.close()


def delete_money_records(platform: Platform) -> None:
    """Every record of the money topics goes, as retention deletes them; offsets stay."""
    transport = log_of(platform)
    try:
        held = 0
        for topic in MONEY_TOPICS:
            transport.delete_records(topic, transport.end_offsets(topic))
            starts = transport.start_offsets(topic)
            assert starts == transport.end_offsets(topic)
            held += sum(starts.values())
        assert held == 4
    finally:
        transport.close()


def duplicates_dropped(api: Api) -> float:
    """Money events bonus's inbox dropped as already applied, since bonus started."""
    families = text_string_to_metric_families(api.call("GET", "bonus", "/metrics").text)
    return sum(
        sample.value
        for family in families
        if family.name == "events_processed"
        for sample in family.samples
        if sample.name == "events_processed_total"
        and sample.labels.get("consumer", "").endswith("bonus.money")
        and sample.labels.get("outcome") == "duplicate"
    )


def reconcile(cli: CliRunner, platform: Platform, *args: str) -> tuple[int, str]:
    result = cli.invoke(
        app, ["reconcile", "--bonus-url", platform["bonus"].url, "--wait", "60", *args]
    )
    return result.exit_code, result.output


def test_lost_money_is_found_repaired_once_and_the_balance_is_what_was_issued(
    api: Api, platform: Platform
) -> None:
    cli = CliRunner()
    author = api.manager()
    exercise_id = api.exercise(author, "ok")
    api.hiring_knows([exercise_id])
    eventually(lambda: api.ledger(author), what="bonus opened the account")
    first, second, third = (api.candidate(f"Solver {n}") for n in range(3))
    assert api.submit(first["id"], exercise_id, 1, "ok").status_code == 200
    eventually(lambda: len(api.entries(author)) == 1, what="the first bonus in the ledger")
    delivered = set(issued(api))

    platform["bonus"].stop()
    for candidate in (second, third):  # a bonus, then the leak: a fine
        assert api.submit(candidate["id"], exercise_id, 1, "ok").status_code == 200
    eventually(
        lambda: api.ok("GET", "exercises", "/assignments", params={"status": "open"}),
        what="the leak opened an assignment",
        timeout_s=RECOVERY_S,
    )
    edit = {"editor_id": author, "statement": "Harder", "accepted_answers": ["harder"]}
    api.ok("PUT", "exercises", f"/exercises/{exercise_id}", json=edit)  # the payment
    lost = set(issued(api)) - delivered
    assert sorted(issued(api)[e]["event_name"] for e in lost) == [
        "BonusAdded",
        "FineAdded",
        "PaymentCommited",
    ]
    eventually(
        lambda: money_on_the_log(platform) == 4,
        what="the four money events relayed to the log",
        timeout_s=RECOVERY_S,
    )
    delete_money_records(platform)

    platform["bonus"].start()
    platform["bonus"].wait_ready(timeout_s=RECOVERY_S)
    api.hiring_knows([exercise_id], version=2)
    late = api.candidate("Solver of the harder version")
    assert api.submit(late["id"], exercise_id, 2, "harder").status_code == 200
    eventually(
        lambda: len(api.entries(author)) == 2,
        what="the bonus issued after bonus came back in the ledger",
        timeout_s=RECOVERY_S,
    )

    report = api.ok("GET", "bonus", "/operator/reconciliation")
    assert {(d["kind"], d["issued"]["event_id"]) for d in report["differences"]} == {
        ("missing", event_id) for event_id in lost
    }
    code, output = reconcile(cli, platform)
    assert code == 1, output
    assert "missing 3" in output

    code, output = reconcile(cli, platform, "--repair")
    assert code == 0, output
    assert "re-sent under their original event ids: 3 (" in output
    assert "no difference" in output
    everything = issued(api)
    assert len(everything) == 5
    assert len(api.entries(author)) == 5
    expected = sum(SIGNED[m["event_name"]] * m["amount_cents"] for m in everything.values())
    assert api.ledger(author)["balance_cents"] == expected

    code, output = reconcile(cli, platform, "--repair")
    assert code == 0, output
    assert "re-sent under their original event ids: 0 " in output

    # Re-sending all of it anyway, as a repair racing a late delivery would: nothing doubles.
    before = duplicates_dropped(api)
    for producer in ("hiring", "exercises"):
        ids = [e for e, m in everything.items() if m["producer"] == producer]
        result = api.ok("POST", producer, "/operator/money-issued/resend", json={"event_ids": ids})
        assert {item["outcome"] for item in result["items"]} == {"restaged"}
    eventually(
        lambda: duplicates_dropped(api) >= before + 5,
        what="bonus dropped the five copies as already applied",
        timeout_s=RECOVERY_S,
    )
    assert len(api.entries(author)) == 5
    assert api.ledger(author)["balance_cents"] == expected
    assert api.ok("GET", "bonus", "/operator/reconciliation")["summary"]["clean"]
