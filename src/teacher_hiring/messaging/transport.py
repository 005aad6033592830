"""The transport interface: what the relay produces to and the consumer runner reads from.

It has Kafka's semantics so that the embedded log and Kafka are interchangeable: topics split
into partitions chosen by hashing the key, per-partition offsets, consumer groups whose members
share the partitions, committed offsets, at-least-once delivery.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

DLQ_SUFFIX = ".dlq"


def dlq_topic(topic: str) -> str:
    return topic + DLQ_SUFFIX


DLQ_HEADERS = (
    "dlq_reason",
    "dlq_error",
    "dlq_consumer",
    "dlq_service",
    "dlq_attempts",
    "original_topic",
    "original_partition",
    "original_offset",
    "dead_lettered_at",
)
"""The headers the consumer runner adds to a record it dead-letters (a replay strips them)."""


@dataclass(frozen=True, slots=True)
class TopicPartition:
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    topic: str
    key: str
    value: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str
    value: bytes
    headers: Mapping[str, str]
    timestamp_ms: int

    @property
    def topic_partition(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)


class TransportError(RuntimeError):
    """The transport could not do what was asked; the caller retries later."""


class PartitionsRevoked(TransportError):
    """A commit named partitions this member no longer owns (a rebalance happened).

    The records read from them will be redelivered to their new owner; the inbox makes that safe.
    """


class Producer(ABC):
    @abstractmethod
    def send(self, messages: Sequence[OutgoingMessage]) -> None:
        """Append the messages; when this returns they are durable in the log.

        Messages with the same topic and key keep their relative order. Raises TransportError.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class Consumer(ABC):
    """One member of a consumer group."""

    @abstractmethod
    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """Records after the group's committed offsets, from the partitions this member owns.

        Waits up to timeout_s when there is nothing to read. Records of one partition come in
        offset order. Records returned but not committed are returned again after a restart or
        a rebalance, never skipped.
        """

    @abstractmethod
    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit, per partition, the offset of the next record to read.

        Raises PartitionsRevoked if this member no longer owns one of them.
        """

    @abstractmethod
    def seek(self, partition: TopicPartition, offset: int) -> None:
        """Read this partition from offset on (used to re-read after a failed batch)."""

    @abstractmethod
    def assignment(self) -> set[TopicPartition]:
        """The partitions this member owns now."""

    @abstractmethod
    def lag(self) -> dict[TopicPartition, int]:
        """Records not yet committed, per owned partition (a metric)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Leave the group so the other members take over at once."""


class Transport(ABC):
    @abstractmethod
    def ensure_topics(self, topics: Sequence[str]) -> None:
        """Create the topics (and their dead-letter topics) if they do not exist."""

    @abstractmethod
    def producer(self) -> Producer: ...

    @abstractmethod
    def consumer(
        self, group: str, topics: Sequence[str], member_id: str | None = None
    ) -> Consumer: ...

    @abstractmethod
    def read(self, topic: str, partition: int, offset: int, limit: int) -> list[Record]:
        """Read records without a group (for the dead-letter tools and tests)."""

    @abstractmethod
    def partitions_for(self, topic: str) -> int: ...

    @abstractmethod
    def end_offsets(self, topic: str) -> dict[int, int]:
        """Per partition, the offset the next appended record will get."""

    def start_offsets(self, topic: str) -> dict[int, int]:
        """Per partition, the offset of the first record still held (the end offset when the
        partition holds none): retention and `delete_records` move it forward."""
        raise TransportError(f"{type(self).__name__} cannot tell where its partitions start")

    def delete_records(self, topic: str, before: Mapping[int, int]) -> None:
        """Delete, per partition, every record below the offset, as Kafka's DeleteRecords does:
        the partition's start moves there and what remains keeps its offsets (for purging
        dead letters)."""
        raise TransportError(f"{type(self).__name__} cannot delete records")

    def writes_only_as(self) -> str | None:
        """The principal whose topics alone this client may write, on a log that lets only a
        topic's producer write it (the secured broker's ACLs); None when it may write any topic
        (the embedded log, a broker without ACLs, the admin)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
