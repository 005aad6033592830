"""A broker that stops answering must not keep a consumer from polling.

The lag metric is measured on the consumer runner's own thread, between polls. It used to wait
up to 30 s for the broker (committed offsets, then end offsets): while a broker restarted, that
kept members from polling past max.poll.interval.ms (10 s), out of their groups, and their
partitions unread for a minute after the broker was back (found by the chaos run, with leak
reports that opened no complication assignment until long after the broker's restart).

The broker here is one of the test's own, paused with SIGSTOP: the session's broker is shared.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from integration.kafka_broker import broker_of_its_own
from teacher_hiring.chaos.broker import ScriptBroker
from teacher_hiring.messaging.kafka import KafkaTransport
from teacher_hiring.messaging.transport import OutgoingMessage, TransportError

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

SESSION_TIMEOUT_MS = 10_000


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[ScriptBroker]:
    with broker_of_its_own(tmp_path / "kafka") as started:
        yield started


def test_the_lag_metric_gives_up_well_before_the_poll_interval_when_the_broker_stalls(
    broker: ScriptBroker,
) -> None:
    transport = KafkaTransport(
        broker.bootstrap, default_partitions=1, session_timeout_ms=SESSION_TIMEOUT_MS
    )
    transport.ensure_topics(["lagging"])
    producer = transport.producer()
    producer.send([OutgoingMessage("lagging", "key", b"{}")])
    consumer = transport.consumer("lagging-group", ["lagging"])
    try:
        deadline = time.monotonic() + 60
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(10, 0.2)
        assert consumer.assignment(), "the member got no partition"
        assert sum(consumer.lag().values()) == 1

        pid = int((broker.data_dir / "kafka.pid").read_text())
        os.kill(pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(TransportError):
                consumer.lag()
            waited = time.monotonic() - started
        finally:
            os.kill(pid, signal.SIGCONT)
        # Well inside max.poll.interval.ms (the session timeout here): the member stays in.
        assert waited < SESSION_TIMEOUT_MS / 1000 / 2, waited
    finally:
        consumer.close()
        producer.close()
        transport.close()
