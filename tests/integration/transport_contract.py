"""The behaviour every transport must have, written once and run against each backend.

A backend's test module subclasses TransportContract and provides a `transport` fixture whose
session timeout is SESSION_TIMEOUT_S. Timings are waited for with deadlines, never assumed, so
that a slower backend (Kafka's rebalances take seconds) passes the same tests.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import pytest

from teacher_hiring.messaging.transport import (
    Consumer,
    OutgoingMessage,
    PartitionsRevoked,
    Record,
    TopicPartition,
    Transport,
    dlq_topic,
)


def unique(prefix: str) -> str:
    """Topic and group names no other test (or earlier run against a shared broker) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def keyed_messages(
    topic: str, keys: int, per_key: int, first_seq: int = 0
) -> list[OutgoingMessage]:
    """Keys interleaved, so that keeping the order per key is not a side effect of sorting."""
    return [
        OutgoingMessage(topic, f"key-{k}", f"key-{k}:{seq}".encode(), {"seq": str(seq)})
        for seq in range(first_seq, first_seq + per_key)
        for k in range(keys)
    ]


def next_offsets(records: Iterable[Record]) -> dict[TopicPartition, int]:
    offsets: dict[TopicPartition, int] = {}
    for record in records:
        offsets[record.topic_partition] = max(
            offsets.get(record.topic_partition, 0), record.offset + 1
        )
    return offsets


def commit_read(consumer: Consumer, records: Sequence[Record]) -> None:
    if records:
        consumer.commit(next_offsets(records))


def drain(
    consumer: Consumer, expected: int, *, commit: bool = True, timeout_s: float = 10.0
) -> list[Record]:
    """Poll (and commit) until `expected` records have come, or the deadline passes."""
    records: list[Record] = []
    deadline = time.monotonic() + timeout_s
    while len(records) < expected and time.monotonic() < deadline:
        batch = consumer.poll(min(200, expected - len(records)), 0.05)
        if commit:
            commit_read(consumer, batch)
        records.extend(batch)
    return records


def values(records: Iterable[Record | OutgoingMessage]) -> Counter[bytes]:
    """How many times each value occurs, to compare what was sent with what was read."""
    return Counter(record.value for record in records)


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"


class TransportContract:
    """Subclass it with a `transport` fixture; override the class timings to match it."""

    SESSION_TIMEOUT_S: float = 1.0
    REBALANCE_TIMEOUT_S: float = 10.0  # how long members may take to settle after a change

    def simulate_crash(self, consumer: Consumer) -> None:
        """Make the member stop heartbeating without leaving the group. Dropping the object is
        enough where heartbeats only happen in poll; a backend that heartbeats from a
        background thread overrides this."""

    def settle(self, consumers: Sequence[Consumer], partitions: set[TopicPartition]) -> None:
        """Poll all members (committing anything read) until they own the partitions between
        them, each some; no partition may ever have two owners."""

        def settled() -> bool:
            for consumer in consumers:
                commit_read(consumer, consumer.poll(100, 0.01))
            owned = [consumer.assignment() for consumer in consumers]
            union = set().union(*owned)
            assert sum(map(len, owned)) == len(union), f"a partition has two owners: {owned}"
            return all(owned) and union == partitions

        wait_for(settled, self.REBALANCE_TIMEOUT_S, "the members to split the partitions")

    def poll_until_it_owns(
        self,
        consumer: Consumer,
        partitions: set[TopicPartition],
        timeout_s: float,
        *,
        commit: bool = True,
    ) -> list[Record]:
        """Poll until the member owns exactly these partitions; returns what it read meanwhile."""
        read: list[Record] = []

        def owns_them() -> bool:
            batch = consumer.poll(100, 0.01)
            if commit:
                commit_read(consumer, batch)
            read.extend(batch)
            return consumer.assignment() == partitions

        wait_for(owns_them, timeout_s, "the member to own the partitions")
        return read

    def all_partitions(self, transport: Transport, topic: str) -> set[TopicPartition]:
        return {TopicPartition(topic, p) for p in range(transport.partitions_for(topic))}

    def test_messages_with_the_same_key_keep_their_order(self, transport: Transport) -> None:
        topic = unique("order")
        producer = transport.producer()
        for batch in range(3):
            producer.send(keyed_messages(topic, keys=10, per_key=20, first_seq=batch * 20))
        records = drain(transport.consumer(unique("group"), [topic]), 600)

        seqs: dict[str, list[int]] = {}
        for record in records:
            seqs.setdefault(record.key, []).append(int(record.headers["seq"]))
        assert len(records) == 600
        assert seqs == {f"key-{k}": list(range(60)) for k in range(10)}

    def test_the_same_key_always_lands_in_the_same_partition(self, transport: Transport) -> None:
        topic = unique("keys")
        producer = transport.producer()
        producer.send(keyed_messages(topic, keys=40, per_key=2))
        producer.send(keyed_messages(topic, keys=40, per_key=2, first_seq=2))
        records = drain(transport.consumer(unique("group"), [topic]), 160)

        partitions_of_key: dict[str, set[int]] = {}
        for record in records:
            partitions_of_key.setdefault(record.key, set()).add(record.partition)
        assert len(records) == 160
        assert all(len(parts) == 1 for parts in partitions_of_key.values())
        assert len({record.partition for record in records}) > 1, "keys must spread"

    def test_a_group_that_commits_gets_each_message_of_a_batch_once(
        self, transport: Transport
    ) -> None:
        topic = unique("once")
        transport.producer().send(keyed_messages(topic, keys=50, per_key=20))
        consumer = transport.consumer(unique("group"), [topic])
        records = drain(consumer, 1000)

        assert len(records) == 1000
        assert set(values(records).values()) == {1}
        assert consumer.poll(100, 0.2) == []

    def test_a_second_poll_continues_after_the_records_already_returned(
        self, transport: Transport
    ) -> None:
        topic = unique("position")
        transport.producer().send(keyed_messages(topic, keys=12, per_key=10))
        consumer = transport.consumer(unique("group"), [topic])
        first = drain(consumer, 30, commit=False)
        second = drain(consumer, 30, commit=False)

        assert len(first) == len(second) == 30
        assert not {(r.partition, r.offset) for r in first} & {
            (r.partition, r.offset) for r in second
        }

    def test_poll_returns_a_record_produced_while_it_waits(self, transport: Transport) -> None:
        topic = unique("wait")
        transport.ensure_topics([topic])
        consumer = transport.consumer(unique("group"), [topic])
        consumer.poll(10, 0.1)  # joins the group
        later = threading.Timer(
            0.3, transport.producer().send, [[OutgoingMessage(topic, "k", b"late")]]
        )
        later.start()
        records = consumer.poll(10, self.REBALANCE_TIMEOUT_S)
        later.join()

        assert [record.value for record in records] == [b"late"]

    def test_a_new_consumer_of_the_group_resumes_at_the_committed_offsets(
        self, transport: Transport
    ) -> None:
        topic, group = unique("resume"), unique("group")
        transport.producer().send(keyed_messages(topic, keys=30, per_key=10))
        first = transport.consumer(group, [topic])
        read_first = drain(first, 100)
        first.close()
        read_second = drain(transport.consumer(group, [topic]), 300 - len(read_first))

        assert len(read_first) >= 100
        assert len(read_first) + len(read_second) == 300
        assert values(read_first + read_second) == values(keyed_messages(topic, 30, 10))

    def test_records_returned_but_not_committed_are_redelivered(self, transport: Transport) -> None:
        topic, group = unique("redeliver"), unique("group")
        transport.producer().send(keyed_messages(topic, keys=30, per_key=10))
        first = transport.consumer(group, [topic])
        uncommitted = drain(first, 50, commit=False)
        first.close()
        read_second = drain(transport.consumer(group, [topic]), 300)

        assert len(uncommitted) == 50
        assert len(read_second) == 300
        assert values(uncommitted) <= values(read_second)

    def test_a_consumer_reads_again_from_where_it_seeks(self, transport: Transport) -> None:
        topic = unique("seek")
        transport.producer().send([OutgoingMessage(topic, "one-key", b"%d" % i) for i in range(5)])
        consumer = transport.consumer(unique("group"), [topic])
        first = drain(consumer, 5)
        consumer.seek(first[0].topic_partition, 2)
        again = consumer.poll(10, self.REBALANCE_TIMEOUT_S)

        assert [r.value for r in first] == [b"0", b"1", b"2", b"3", b"4"]
        assert [r.value for r in again] == [b"2", b"3", b"4"]

    def test_two_groups_read_independently(self, transport: Transport) -> None:
        topic = unique("groups")
        transport.producer().send(keyed_messages(topic, keys=20, per_key=10))
        read_a = drain(transport.consumer(unique("group-a"), [topic]), 200)
        read_b = drain(transport.consumer(unique("group-b"), [topic]), 200)

        assert values(read_a) == values(read_b) == values(keyed_messages(topic, 20, 10))

    def test_two_members_split_the_partitions_and_read_everything_once(
        self, transport: Transport
    ) -> None:
        topic, group = unique("split"), unique("group")
        transport.ensure_topics([topic])
        a, b = transport.consumer(group, [topic]), transport.consumer(group, [topic])
        joined_at = time.monotonic()
        self.settle([a, b], self.all_partitions(transport, topic))
        # The first member gives some partitions up; the second does not wait for leases to end.
        assert time.monotonic() - joined_at < self.SESSION_TIMEOUT_S
        transport.producer().send(keyed_messages(topic, keys=60, per_key=10))

        read: dict[str, list[Record]] = {"a": [], "b": []}
        deadline = time.monotonic() + self.REBALANCE_TIMEOUT_S
        while sum(map(len, read.values())) < 600 and time.monotonic() < deadline:
            for name, member in (("a", a), ("b", b)):
                batch = member.poll(50, 0.01)
                commit_read(member, batch)
                read[name].extend(batch)
                assert not a.assignment() & b.assignment()

        assert read["a"]
        assert read["b"]
        assert not {r.partition for r in read["a"]} & {r.partition for r in read["b"]}
        assert values(read["a"] + read["b"]) == values(keyed_messages(topic, 60, 10))

    def test_members_get_an_even_share(self, transport: Transport) -> None:
        topic, group = unique("share"), unique("group")
        transport.ensure_topics([topic])
        members = [transport.consumer(group, [topic]) for _ in range(4)]
        self.settle(members, self.all_partitions(transport, topic))

        shares = [len(member.assignment()) for member in members]
        assert max(shares) - min(shares) <= 1

    def test_a_member_waiting_in_a_long_poll_keeps_its_share_and_lets_a_new_one_in(
        self, transport: Transport
    ) -> None:
        topic, group = unique("long-poll"), unique("group")
        transport.ensure_topics([topic])
        waiting = transport.consumer(group, [topic])
        everything = self.all_partitions(transport, topic)
        self.poll_until_it_owns(waiting, everything, self.REBALANCE_TIMEOUT_S)
        long_poll = threading.Thread(target=waiting.poll, args=(10, 2.5 * self.SESSION_TIMEOUT_S))
        long_poll.start()
        newcomer = transport.consumer(group, [topic])
        while long_poll.is_alive():
            commit_read(newcomer, newcomer.poll(10, 0.05))
        newcomer.poll(10, 0.05)

        assert waiting.assignment()
        assert newcomer.assignment()
        assert waiting.assignment() | newcomer.assignment() == everything
        assert not waiting.assignment() & newcomer.assignment()

    def test_when_a_member_closes_the_other_takes_over_at_once(self, transport: Transport) -> None:
        topic, group = unique("close"), unique("group")
        transport.ensure_topics([topic])
        a, b = transport.consumer(group, [topic]), transport.consumer(group, [topic])
        everything = self.all_partitions(transport, topic)
        self.settle([a, b], everything)
        transport.producer().send(keyed_messages(topic, keys=30, per_key=10))
        assert drain(a, 20, commit=False)
        a.close()
        closed_at = time.monotonic()
        read_b = self.poll_until_it_owns(b, everything, self.REBALANCE_TIMEOUT_S)
        took_over_after = time.monotonic() - closed_at
        read_b += drain(b, 300 - len(read_b))

        assert took_over_after < self.SESSION_TIMEOUT_S
        assert values(read_b) == values(keyed_messages(topic, 30, 10))

    def test_a_member_that_stops_polling_loses_its_partitions_after_the_session_timeout(
        self, transport: Transport
    ) -> None:
        topic, group = unique("crash"), unique("group")
        transport.ensure_topics([topic])
        a, b = transport.consumer(group, [topic]), transport.consumer(group, [topic])
        everything = self.all_partitions(transport, topic)
        self.settle([a, b], everything)
        transport.producer().send(keyed_messages(topic, keys=30, per_key=10))
        assert drain(a, 20, commit=False)
        self.simulate_crash(a)
        crashed_at = time.monotonic()
        del a
        read_b = self.poll_until_it_owns(
            b, everything, self.SESSION_TIMEOUT_S + self.REBALANCE_TIMEOUT_S
        )
        took_over_after = time.monotonic() - crashed_at
        read_b += drain(b, 300 - len(read_b))

        assert took_over_after >= 0.8 * self.SESSION_TIMEOUT_S
        assert values(read_b) == values(keyed_messages(topic, 30, 10))

    def test_a_commit_after_the_partitions_were_taken_raises_partitions_revoked(
        self, transport: Transport
    ) -> None:
        topic, group = unique("revoked"), unique("group")
        transport.producer().send(keyed_messages(topic, keys=30, per_key=10))
        stalled = transport.consumer(group, [topic])
        read = drain(stalled, 300, commit=False)
        successor = transport.consumer(group, [topic])
        everything = self.all_partitions(transport, topic)
        self.poll_until_it_owns(
            successor, everything, self.SESSION_TIMEOUT_S + self.REBALANCE_TIMEOUT_S, commit=False
        )

        with pytest.raises(PartitionsRevoked):
            stalled.commit(next_offsets(read))
        assert sum(successor.lag().values()) == 300

    def test_a_commit_naming_a_partition_of_another_member_commits_nothing(
        self, transport: Transport
    ) -> None:
        topic, group = unique("partial"), unique("group")
        transport.ensure_topics([topic])
        a, b = transport.consumer(group, [topic]), transport.consumer(group, [topic])
        self.settle([a, b], self.all_partitions(transport, topic))
        transport.producer().send(keyed_messages(topic, keys=30, per_key=10))
        ends = transport.end_offsets(topic)
        own = max(a.assignment(), key=lambda tp: ends[tp.partition])
        other = next(iter(b.assignment()))

        with pytest.raises(PartitionsRevoked):
            a.commit({own: 1, other: 1})
        assert a.lag()[own] == ends[own.partition] > 0

    def test_ensure_topics_creates_the_dead_letter_topic(self, transport: Transport) -> None:
        topic = unique("dlq")
        transport.ensure_topics([topic])
        dead = dlq_topic(topic)
        transport.producer().send([OutgoingMessage(dead, "k", b"poison", {"error": "bad"})])

        partitions = transport.partitions_for(dead)
        assert partitions >= 1
        assert transport.end_offsets(dead).keys() == set(range(partitions))
        stored = [r for p in range(partitions) for r in transport.read(dead, p, 0, 10)]
        assert [(r.value, dict(r.headers)) for r in stored] == [(b"poison", {"error": "bad"})]

    def test_read_returns_records_from_an_offset_without_a_group(
        self, transport: Transport
    ) -> None:
        topic = unique("read")
        transport.producer().send([OutgoingMessage(topic, "one-key", b"%d" % i) for i in range(6)])
        partition = next(p for p, end in transport.end_offsets(topic).items() if end)

        records = transport.read(topic, partition, 2, 3)
        assert [(r.offset, r.value, r.key) for r in records] == [
            (2, b"2", "one-key"),
            (3, b"3", "one-key"),
            (4, b"4", "one-key"),
        ]
        assert all(r.timestamp_ms > 0 for r in records)

    def test_deleting_records_moves_the_start_and_the_rest_keep_their_offsets(
        self, transport: Transport
    ) -> None:
        topic = unique("delete")
        transport.ensure_topics([topic])
        transport.producer().send([OutgoingMessage(topic, "one-key", b"%d" % i) for i in range(5)])
        partition = next(p for p, end in transport.end_offsets(topic).items() if end)
        assert transport.start_offsets(topic) == dict.fromkeys(transport.end_offsets(topic), 0)

        transport.delete_records(topic, {partition: 3})

        assert transport.start_offsets(topic)[partition] == 3
        assert transport.end_offsets(topic)[partition] == 5
        kept = transport.read(topic, partition, 0, 10)
        assert [(r.offset, r.value) for r in kept] == [(3, b"3"), (4, b"4")]
        transport.delete_records(topic, {partition: 5})
        assert transport.start_offsets(topic) == transport.end_offsets(topic)
        assert transport.read(topic, partition, 0, 10) == []

    def test_end_offsets_and_lag_count_what_is_not_committed(self, transport: Transport) -> None:
        topic = unique("lag")
        transport.producer().send(keyed_messages(topic, keys=30, per_key=10))
        ends = transport.end_offsets(topic)
        consumer = transport.consumer(unique("group"), [topic])
        records = drain(consumer, 300, commit=False)
        committed_tp = records[0].topic_partition
        consumer.commit({committed_tp: ends[committed_tp.partition]})

        assert ends.keys() == set(range(transport.partitions_for(topic)))
        assert {p: n for p, n in ends.items() if n} == dict(Counter(r.partition for r in records))
        assert consumer.lag() == {
            tp: 0 if tp == committed_tp else ends[tp.partition]
            for tp in self.all_partitions(transport, topic)
        }
