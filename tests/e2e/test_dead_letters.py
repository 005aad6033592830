"""Dead letters across the running platform, driven by `teacher-hiring dead-letters`.

Two things reach bonus's dead-letter topic: a record on `money` that is not even JSON, and a
real bonus whose ledger entry the database refused while the ledger was frozen for maintenance
(a trigger refusing inserts: the handler fails on every attempt, then the event is
dead-lettered). Once the ledger is writable again, the operator lists them, looks at each,
replays (dry run, then for real, twice), sees the bonus credited once, and purges.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from e2e.platform_api import Api, eventually
from teacher_hiring.cli import app
from teacher_hiring.messaging.kafka_access import read_client_config
from teacher_hiring.messaging.transport import OutgoingMessage
from teacher_hiring.runtime.processes import Platform
from teacher_hiring.runtime.transports import make_transport

pytestmark = pytest.mark.e2e

POISON = b"{this is not an event"
FROZEN = "ledger is frozen for maintenance"
FREEZE = {
    "sqlite": [
        f"CREATE TRIGGER ledger_frozen BEFORE INSERT ON ledger "
        f"BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION ledger_frozen() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{FROZEN}'; END $$",
        "CREATE TRIGGER ledger_frozen BEFORE INSERT ON ledger "
        "FOR EACH ROW EXECUTE FUNCTION ledger_frozen()",
    ],
}
THAW = {
    "sqlite": ["DROP TRIGGER ledger_frozen"],
    "postgresql": ["DROP TRIGGER ledger_frozen ON ledger", "DROP FUNCTION ledger_frozen()"],
}


@contextmanager
def frozen_ledger(platform: Platform) -> Iterator[None]:
    """The bonus database refuses new ledger entries until the block ends."""
    engine = sa.create_engine(platform.deployment.database_url("bonus"), poolclass=sa.NullPool)
    try:
        dialect = engine.dialect.name
        with engine.begin() as conn:
            for statement in FREEZE[dialect]:
                conn.exec_driver_sql(statement)
        yield
        with engine.begin() as conn:
            for statement in THAW[dialect]:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def send_to_money(platform: Platform, key: str, value: bytes, headers: dict[str, str]) -> None:
    """A record on `money` as its producer, hiring, may write it (with hiring's credentials on
    a secured broker)."""
    deployment = platform.deployment
    clients = deployment.kafka_clients
    transport = make_transport(
        deployment.event_log_url(),
        partitions=deployment.partitions,
        topic_prefix=deployment.topic_prefix,
        client_config=read_client_config(clients["hiring"]) if "hiring" in clients else None,
    )
    try:
        transport.producer().send([OutgoingMessage("money", key, value, headers)])
    finally:
        transport.close()


def send_poison(platform: Platform) -> None:
    """A record on `money` as a broken producer would append it."""
    send_to_money(platform, "broken-producer", POISON, {})


def cli(platform: Platform, *args: str, code: int = 0) -> str:
    urls = [f"--{name}-url={platform[name].url}" for name in ("exercises", "hiring", "bonus")]
    result = CliRunner().invoke(app, ["dead-letters", *args, *urls])
    assert result.exit_code == code, (args, result.output, result.exception)
    return result.output


def solve(api: Api, exercise_id: str, name: str) -> None:
    candidate = api.candidate(name)
    response = api.submit(candidate["id"], exercise_id, 1, "ok")
    assert response.status_code == 200 and response.json()["correct"] is True, response.text


def dead_letters(api: Api) -> list[dict[str, Any]]:
    page = api.ok("GET", "bonus", "/operator/dead-letters", params={"order": "offset"})
    return list(page["items"])


def test_a_poison_event_and_a_failed_bonus_are_listed_replayed_once_and_purged(
    api: Api, platform: Platform
) -> None:
    author = api.manager()
    exercise_id = api.exercise(author, "ok")
    api.hiring_knows([exercise_id])
    solve(api, exercise_id, "Before the freeze")
    eventually(lambda: len(api.entries(author)) == 1, what="the first bonus")

    with frozen_ledger(platform):
        solve(api, exercise_id, "During the freeze")
        send_poison(platform)
        found = eventually(
            lambda: (lambda d: d if len(d) == 2 else None)(dead_letters(api)),
            what="the failed bonus and the poison in money.dlq",
            timeout_s=60,
        )
    by_reason = {item["reason"]: item for item in found}
    failed, poison = by_reason["failed"], by_reason["invalid"]
    assert failed["event_name"] == "BonusAdded" and FROZEN in failed["error"]
    assert len(api.entries(author)) == 1

    listed = cli(platform, "list", "--topic", "money")
    assert "bonus.money" in listed and "failed" in listed and "invalid" in listed
    shown = cli(platform, "show", "money", failed["id"])
    assert failed["event_id"] in shown and FROZEN in shown
    assert "not an event" in cli(platform, "show", "money", poison["id"])

    dry = cli(platform, "replay", "money")
    assert "would apply" in dry and "still invalid" in dry
    assert "dry run: 1 would be published" in dry
    assert "published 1" in cli(platform, "replay", "money", "--apply")
    eventually(lambda: len(api.entries(author)) == 2, what="the replayed bonus credited")
    assert "published 0" in cli(platform, "replay", "money", "--apply")
    assert "already replayed" in cli(platform, "replay", "money")

    solve(api, exercise_id, "After the replays")  # consumed after anything the replays sent
    eventually(lambda: len(api.entries(author)) == 3, what="a later bonus")
    entries = api.entries(author)
    assert len({entry["business_key"] for entry in entries}) == 3
    assert [e["source"]["event_id"] for e in entries].count(failed["event_id"]) == 1
    assert api.ledger(author)["balance_cents"] == sum(e["amount_cents"] for e in entries)

    refused = cli(platform, "purge", "money", code=1)
    assert "neither replayed nor applied" in refused and poison["id"] in refused
    assert "purged 2 dead letters of money (forced)" in cli(platform, "purge", "money", "--force")
    assert "no dead letters match" in cli(platform, "list")
    metrics = api.client.get(api.url("bonus", "/metrics")).text
    assert 'dead_letters_pending{service="bonus",topic="money"} 0.0' in metrics
