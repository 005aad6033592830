"""Topics and consumer groups under a prefix: several platforms sharing one broker without
seeing each other.

Wraps any transport; the services keep speaking of `money` and of group `bonus.money` while the
broker holds `<prefix>money` and `<prefix>bonus.money` (a shared group would make one platform's
members rebalance the other's). Used by the tests (a fresh platform per test on one Kafka
broker) and by anyone who runs two environments on one cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from teacher_hiring.messaging.transport import (
    Consumer,
    OutgoingMessage,
    Producer,
    Record,
    TopicPartition,
    Transport,
)


class _Names:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def outer(self, topic: str) -> str:
        return self.prefix + topic

    def inner(self, topic: str) -> str:
        return topic.removeprefix(self.prefix)

    def outer_tp(self, tp: TopicPartition) -> TopicPartition:
        return TopicPartition(self.outer(tp.topic), tp.partition)

    def inner_tp(self, tp: TopicPartition) -> TopicPartition:
        return TopicPartition(self.inner(tp.topic), tp.partition)

    def inner_record(self, record: Record) -> Record:
        return replace(record, topic=self.inner(record.topic))


class _PrefixedProducer(Producer):
    def __init__(self, inner: Producer, names: _Names) -> None:
        self._inner, self._names = inner, names

    def send(self, messages: Sequence[OutgoingMessage]) -> None:
        self._inner.send([replace(m, topic=self._names.outer(m.topic)) for m in messages])

    def close(self) -> None:
        self._inner.close()


class _PrefixedConsumer(Consumer):
    def __init__(self, inner: Consumer, names: _Names) -> None:
        self._inner, self._names = inner, names

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        return [self._names.inner_record(r) for r in self._inner.poll(max_records, timeout_s)]

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        self._inner.commit({self._names.outer_tp(tp): o for tp, o in offsets.items()})

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self._inner.seek(self._names.outer_tp(partition), offset)

    def assignment(self) -> set[TopicPartition]:
        return {self._names.inner_tp(tp) for tp in self._inner.assignment()}

    def lag(self) -> dict[TopicPartition, int]:
        return {self._names.inner_tp(tp): n for tp, n in self._inner.lag().items()}

    def close(self) -> None:
        self._inner.close()


class PrefixedTransport(Transport):
    def __init__(self, inner: Transport, prefix: str) -> None:
        self.inner = inner
        self._names = _Names(prefix)

    def ensure_topics(self, topics: Sequence[str]) -> None:
        self.inner.ensure_topics([self._names.outer(t) for t in topics])

    def producer(self) -> Producer:
        return _PrefixedProducer(self.inner.producer(), self._names)

    def consumer(self, group: str, topics: Sequence[str], member_id: str | None = None) -> Consumer:
        outer = [self._names.outer(t) for t in topics]
        inner = self.inner.consumer(self._names.outer(group), outer, member_id)
        return _PrefixedConsumer(inner, self._names)

    def read(self, topic: str, partition: int, offset: int, limit: int) -> list[Record]:
        records = self.inner.read(self._names.outer(topic), partition, offset, limit)
        return [self._names.inner_record(r) for r in records]

    def partitions_for(self, topic: str) -> int:
        return self.inner.partitions_for(self._names.outer(topic))

    def end_offsets(self, topic: str) -> dict[int, int]:
        return self.inner.end_offsets(self._names.outer(topic))

    def start_offsets(self, topic: str) -> dict[int, int]:
        return self.inner.start_offsets(self._names.outer(topic))

    def delete_records(self, topic: str, before: Mapping[int, int]) -> None:
        self.inner.delete_records(self._names.outer(topic), before)

    def writes_only_as(self) -> str | None:
        return self.inner.writes_only_as()

    def close(self) -> None:
        self.inner.close()
