"""The transport contract on a real Apache Kafka broker (single node, KRaft, on loopback), and
what only Kafka needs checking.

The broker comes from `scripts/kafka.sh` (see kafka_broker.py): started for the session if
none answers on the test port; without one the tests are skipped, or fail in CI.
"""

from __future__ import annotations

import subprocess
import sys
import time
import zlib
from collections.abc import Iterator

import pytest

from integration.kafka_broker import running_broker
from integration.transport_contract import (
    TransportContract,
    commit_read,
    drain,
    keyed_messages,
    unique,
    values,
    wait_for,
)
from teacher_hiring.messaging.kafka import KafkaTransport
from teacher_hiring.messaging.prefixed import PrefixedTransport
from teacher_hiring.messaging.transport import Consumer, OutgoingMessage, Record

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

# A member in another process, for the test to kill: it reads without committing, prints how
# many partitions it owns whenever that changes, and never leaves the group.
MEMBER = """
import sys
from teacher_hiring.messaging.kafka import KafkaTransport
from teacher_hiring.messaging.prefixed import PrefixedTransport
bootstrap, group, topic, session_ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
member = KafkaTransport(bootstrap, session_timeout_ms=session_ms).consumer(group, [topic])
owned = None
while True:
    member.poll(100, 0.05)
    if len(member.assignment()) != owned:
        owned = len(member.assignment())
        print(owned, flush=True)
"""


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    with running_broker() as bootstrap:
        yield bootstrap


class TestKafkaTransport(TransportContract):
    # The broker's group.min.session.timeout.ms is lowered to 1 s for this (default 6 s).
    SESSION_TIMEOUT_S = 3.0
    REBALANCE_TIMEOUT_S = 15.0

    @pytest.fixture
    def transport(self, kafka_bootstrap: str) -> Iterator[KafkaTransport]:
        kafka = KafkaTransport(
            kafka_bootstrap, session_timeout_ms=int(self.SESSION_TIMEOUT_S * 1000)
        )
        self.stuck: list[Consumer] = []
        yield kafka
        for member in self.stuck:
            member.close()
        kafka.close()

    def simulate_crash(self, consumer: Consumer) -> None:
        """Keeps the member alive but never polls it again: librdkafka heartbeats from a thread
        of its own, and the member leaves when max.poll.interval.ms (the session timeout)
        passes. Destroying the client without leaving can hang librdkafka, so a process
        that really dies is tested below with a subprocess."""
        self.stuck.append(consumer)

    def test_a_member_whose_process_dies_loses_its_partitions_after_the_session_timeout(
        self, transport: KafkaTransport, kafka_bootstrap: str
    ) -> None:
        topic, group = unique("killed"), unique("group")
        transport.producer().send(keyed_messages(topic, keys=30, per_key=10))
        session_ms = str(int(self.SESSION_TIMEOUT_S * 1000))
        child = subprocess.Popen(
            [sys.executable, "-c", MEMBER, kafka_bootstrap, group, topic, session_ms],
            stdout=subprocess.PIPE,
            text=True,
        )
        read: list[Record] = []

        def survivor_has_a_share() -> bool:
            batch = survivor.poll(100, 0.01)
            commit_read(survivor, batch)
            read.extend(batch)
            return bool(survivor.assignment())

        try:
            assert child.stdout is not None
            while child.stdout.readline().strip() != "6":  # it owns every partition
                assert child.poll() is None, "the member process exited"
            survivor = transport.consumer(group, [topic])
            wait_for(survivor_has_a_share, self.REBALANCE_TIMEOUT_S, "the survivor's share")
        finally:
            child.kill()  # SIGKILL: no LeaveGroup, the broker must notice the silence
            child.wait()
        killed_at = time.monotonic()
        everything = self.all_partitions(transport, topic)
        read += self.poll_until_it_owns(
            survivor, everything, self.SESSION_TIMEOUT_S + self.REBALANCE_TIMEOUT_S
        )
        took_over_after = time.monotonic() - killed_at
        read += drain(survivor, 300 - len(read))

        assert took_over_after >= 0.8 * self.SESSION_TIMEOUT_S
        assert values(read) == values(keyed_messages(topic, 30, 10))

    def test_the_partition_is_the_crc32_of_the_key_as_on_the_embedded_log(
        self, transport: KafkaTransport
    ) -> None:
        topic = unique("crc")
        messages = [*keyed_messages(topic, keys=30, per_key=1), OutgoingMessage(topic, "", b"")]
        transport.producer().send(messages)
        partitions = transport.partitions_for(topic)

        stored = [r for p in range(partitions) for r in transport.read(topic, p, 0, 100)]
        assert len(stored) == 31
        assert all(r.partition == zlib.crc32(r.key.encode()) % partitions for r in stored)

    def test_asking_about_an_unknown_topic_does_not_create_it(
        self, transport: KafkaTransport
    ) -> None:
        topic = unique("unknown")

        assert transport.partitions_for(topic) == 0
        assert transport.end_offsets(topic) == {}
        assert transport.partitions_for(topic) == 0

    def test_platforms_under_different_prefixes_share_no_topic_and_no_group(
        self, transport: KafkaTransport
    ) -> None:
        first, second = unique("one") + ".", unique("two") + "."
        platforms = [PrefixedTransport(transport, prefix) for prefix in (first, second)]
        for n, platform in enumerate(platforms):
            platform.ensure_topics(["money"])
            platform.producer().send([OutgoingMessage("money", "key", f"platform {n}".encode())])
        consumers = [platform.consumer("bonus.money", ["money"]) for platform in platforms]
        try:
            read = [drain(consumer, 1, timeout_s=30) for consumer in consumers]

            assert [[r.value for r in records] for records in read] == [
                [b"platform 0"],
                [b"platform 1"],
            ]
            assert all(r.topic == "money" for records in read for r in records)
            groups = transport._admin().list_consumer_groups().result().valid
            names = {group.group_id for group in groups}
            assert {first + "bonus.money", second + "bonus.money"} <= names
        finally:
            for consumer in consumers:
                consumer.close()
