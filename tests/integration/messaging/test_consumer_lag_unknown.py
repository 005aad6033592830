"""A lag the transport cannot tell (the broker does not answer) is a metric left as it was:
the consumer runner goes on polling and applying, and its loop does not fail for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from integration.messaging.consumer_support import (
    applied_count,
    embedded_log,
    runner_of,
    service_database,
    stage_managers,
)
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.relay import OutboxRelay
from teacher_hiring.messaging.sinks import LogSink
from teacher_hiring.messaging.transport import TransportError

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    yield from service_database(f"sqlite:///{tmp_path / 'service.db'}")


def test_a_lag_the_broker_cannot_tell_neither_fails_the_loop_nor_stops_the_records(
    engine: Engine, tmp_path: Path
) -> None:
    registry = SchemaRegistry.load()
    log = embedded_log(tmp_path)
    runner = runner_of(engine, log, registry)
    runner.lag_report_interval_s = 0.0
    consumer = runner._consumer
    assert consumer is not None
    asked: list[int] = []

    def unknown() -> dict[object, int]:
        asked.append(1)
        raise TransportError("kafka committed offsets: Local: Timed out")

    consumer.lag = unknown  # type: ignore[method-assign]
    box = Outbox(registry, producer="exercises")
    relay = OutboxRelay(engine, LogSink(log.producer()), service="test")
    try:
        assert runner.run_once() == 0  # nothing to read: the lag is asked, and cannot be told
        stage_managers(engine, box, 3)
        relay.run_once()
        applied = sum(runner.run_once() for _ in range(20))
        assert runner.run_once() == 0
    finally:
        runner.close()
    assert asked and applied == 3 and applied_count(engine) == 3
