"""A database that goes away while a consumer applies a poll's records loses none of them.

The records of a poll are applied in one transaction. When the database refuses that
transaction itself (a lock held past the busy timeout on SQLite; connections refused and
sessions ended on PostgreSQL), nothing of the poll is applied, and the runner must read the
same records again once the database is back. It used to go on from where the poll had left
the consumer's position: the next batch's commit moved the group's offset past the records
that were never applied, and they were lost (found by the chaos run: a fine and a candidate's
promotion that never reached bonus and exercises).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from integration.messaging.consumer_support import (
    applied_count,
    embedded_log,
    runner_of,
    service_database,
    stage_managers,
)
from teacher_hiring.chaos.faults import Outages
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.relay import OutboxRelay
from teacher_hiring.messaging.sinks import LogSink

pytestmark = pytest.mark.integration

OUTAGE_S = 1.5


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    for engine in service_database(database_url):
        if engine.dialect.name == "sqlite":
            # A writer gives up on a held lock after 50 ms here, not after the service's 30 s.
            @sa.event.listens_for(engine, "connect")
            def _short_wait(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.execute("PRAGMA busy_timeout=50")

            engine.dispose()
        yield engine


def test_records_polled_while_the_database_is_away_are_applied_once_it_is_back(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    registry = SchemaRegistry.load()
    log = embedded_log(tmp_path)
    runner = runner_of(engine, log, registry)
    box = Outbox(registry, producer="exercises")
    relay = OutboxRelay(engine, LogSink(log.producer()), service="test")
    outage = threading.Thread(target=Outages({"svc": database_url}).hold, args=("svc", OUTAGE_S))
    try:
        stage_managers(engine, box, 3)
        assert relay.run_once() == 3

        outage.start()
        time.sleep(0.3)  # the lock is held, or the sessions are ended, by now
        with pytest.raises(sa.exc.OperationalError):
            runner.run_once()  # polled the three, could not apply them
        outage.join()

        stage_managers(engine, box, 2)
        assert relay.run_once() == 2
        for _ in range(20):
            runner.run_once()
    finally:
        runner.close()
    assert applied_count(engine) == 5
