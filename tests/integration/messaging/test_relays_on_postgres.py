"""Several instances of one service on PostgreSQL: their relays share one outbox.

Every row must reach the log, none twice by design, and the events of one key in the order
they were committed, while the instances stage events and relay at the same time.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from event_examples import example_payload
from sqlalchemy import Engine

from teacher_hiring.messaging.embedded_log import EmbeddedLog
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.relay import OutboxRelay
from teacher_hiring.messaging.sinks import LogSink, OutboxRow
from teacher_hiring.messaging.tables import metadata, outbox
from teacher_hiring.messaging.wire import RecordCodec
from teacher_hiring.runtime.db import dispose, make_engine

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

KEYS = [f"manager-{n}" for n in range(4)]


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load()


@pytest.fixture
def instances(postgres_url: str) -> Iterator[list[Engine]]:
    """Two engines on one database: two instances of the same service."""
    engines = [make_engine(postgres_url) for _ in range(2)]
    metadata.create_all(engines[0])
    yield engines
    for engine in engines:
        dispose(engine)


@pytest.fixture
def log(tmp_path: Path) -> EmbeddedLog:
    return EmbeddedLog(tmp_path / "events.db", default_partitions=3)


class SlowLogSink(LogSink):
    """The log, a little slow to answer, so relays that could overlap would."""

    def deliver(self, rows: Sequence[OutboxRow]) -> None:
        time.sleep(0.002)
        super().deliver(rows)


def stage(engine: Engine, box: Outbox, key: str) -> None:
    payload = {**example_payload("ManagerCreated"), "manager_id": key}
    with engine.begin() as conn:
        box.stage(conn, "ManagerCreated", payload, version=0)


def sent_per_key(log: EmbeddedLog) -> dict[str, list[str]]:
    """Event ids per key in the order the log holds them (offset order of each partition)."""
    per_key: dict[str, list[str]] = defaultdict(list)
    for partition in range(log.partitions_for("managers")):
        for record in log.read("managers", partition, 0, 100_000):
            envelope = RecordCodec(SchemaRegistry.load()).decode(record.value, record.headers)
            per_key[envelope.payload["manager_id"]].append(envelope.event_id)
    return per_key


def committed_per_key(engine: Engine) -> dict[str, list[str]]:
    """Event ids per key in outbox id order, which per key is commit order (see Outbox)."""
    per_key: dict[str, list[str]] = defaultdict(list)
    query = sa.select(outbox.c.partition_key, outbox.c.event_id).order_by(outbox.c.id)
    with engine.connect() as conn:
        for key, event_id in conn.execute(query):
            per_key[key].append(event_id)
    return per_key


def test_two_relays_deliver_every_row_once_keeping_the_order_of_each_key(
    instances: list[Engine], log: EmbeddedLog, registry: SchemaRegistry
) -> None:
    box = Outbox(registry, producer="exercises")
    relays = [
        OutboxRelay(engine, SlowLogSink(log.producer()), service="test", batch_size=10)
        for engine in instances
    ]
    relayed = [0, 0]
    staging_done = threading.Event()

    def relay_until_drained(index: int) -> None:
        relay = relays[index]
        while True:
            moved = relay.run_once()
            relayed[index] += moved
            if not moved:
                if staging_done.is_set() and relay.backlog() == 0:
                    return
                time.sleep(0.001)

    workers = [threading.Thread(target=relay_until_drained, args=(i,)) for i in (0, 1)]
    for worker in workers:
        worker.start()
    with ThreadPoolExecutor(max_workers=8) as writers:
        jobs = [(instances[n % 2], KEYS[n % len(KEYS)]) for n in range(400)]
        list(writers.map(lambda job: stage(job[0], box, job[1]), jobs))
    staging_done.set()
    for worker in workers:
        worker.join(60)

    assert sum(relayed) == 400
    assert min(relayed) > 0, "both relays took turns"
    assert sent_per_key(log) == committed_per_key(instances[0])  # once each, in order per key


def test_the_other_relay_waits_for_the_turn_and_takes_over_when_a_relay_dies(
    instances: list[Engine], log: EmbeddedLog, registry: SchemaRegistry
) -> None:
    box = Outbox(registry, producer="exercises")
    for n in range(6):
        stage(instances[0], box, KEYS[n % 2])
    delivering, release = threading.Event(), threading.Event()

    class StuckSink(LogSink):
        def deliver(self, rows: Sequence[OutboxRow]) -> None:
            delivering.set()
            release.wait(10)  # holds its turn, rows unmarked, until its process "dies"
            super().deliver(rows)

    stuck = OutboxRelay(instances[0], StuckSink(log.producer()), service="test", batch_size=4)
    standby = OutboxRelay(instances[1], LogSink(log.producer()), service="test", batch_size=4)
    with ThreadPoolExecutor(max_workers=1) as pool:
        stuck_pass = pool.submit(stuck.run_once)
        assert delivering.wait(10)
        assert standby.run_once() == 0  # not its turn: nothing is read, nothing is sent
        with instances[1].connect() as conn:  # the stuck relay's instance dies (and is gone
            # when the call returns: with a timeout, it waits for the backend to exit)
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid, 10000) FROM pg_locks JOIN pg_database AS d "
                    "ON d.oid = pg_locks.database "
                    "WHERE locktype = 'advisory' AND d.datname = current_database()"
                )
            )
        assert standby.run_once() == 4  # at once: the lock went with the dead session
        release.set()
        with pytest.raises(sa.exc.OperationalError):
            stuck_pass.result(10)
    assert standby.run_once() == 2
    assert standby.backlog() == 0
    # The dead relay's 4 rows were never marked, so the standby sent them too: a crash may
    # send a row twice (the inboxes absorb it), never lose one.
    assert sum(len(ids) for ids in sent_per_key(log).values()) == 6 + 4


def test_a_second_event_of_a_key_waits_for_the_first_to_commit(
    instances: list[Engine], registry: SchemaRegistry
) -> None:
    """Otherwise it could draw a higher id, commit first, and be relayed first."""
    box = Outbox(registry, producer="exercises")
    first = instances[0].connect()
    transaction = first.begin()
    payload = {**example_payload("ManagerCreated"), "manager_id": "k"}
    first_event = box.stage(first, "ManagerCreated", payload, version=0)
    with ThreadPoolExecutor(max_workers=2) as pool:
        same_key = pool.submit(stage, instances[1], box, "k")
        other_key = pool.submit(stage, instances[1], box, "another")
        other_key.result(10)  # other keys never wait
        time.sleep(0.3)
        assert not same_key.done()
        transaction.commit()
        same_key.result(10)
    first.close()
    assert committed_per_key(instances[0])["k"][0] == first_event.event_id
