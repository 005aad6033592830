"""Apache Kafka behind the transport interface, on confluent-kafka (librdkafka).

The same semantics as the embedded log, from Kafka's own machinery: the partition of a key is
the CRC-32 of its bytes modulo the partition count (librdkafka's `consistent` partitioner, the
embedded log's `partition_for_key`), members of a group share partitions through the broker's
group coordinator, offsets are committed explicitly and synchronously.

Where librdkafka's defaults differ from the embedded log they are set to match it:
- a member that does not poll for the session timeout leaves the group
  (`max.poll.interval.ms` = `session.timeout.ms`; librdkafka's default is five minutes);
- a commit must name only partitions this member owns, which Kafka's classic protocol does not
  check: ownership is tracked from the rebalance callbacks, and a generation the coordinator
  rejects counts as revoked too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from confluent_kafka import Consumer as _Client
from confluent_kafka import KafkaError, KafkaException, Message
from confluent_kafka import Producer as _ProducerClient
from confluent_kafka import TopicPartition as _TP  # noqa: N814 - not our TopicPartition
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    OffsetSpec,
    ResourcePatternType,
    ResourceType,
)

from teacher_hiring.messaging import transport
from teacher_hiring.messaging.kafka_access import ADMIN as ADMIN_PRINCIPAL

REQUEST_TIMEOUT_S = 30.0
DELIVERY_TIMEOUT_MS = 30_000  # a message not acknowledged by then fails its send()
READ_TIMEOUT_S = 10.0
LAG_TIMEOUT_S = 2.0
"""How long the lag metric may wait for the broker. It is measured on the consumer's own thread,
between polls: waiting longer (while the broker restarts or its group coordinator loads) would
keep the member from polling past max.poll.interval.ms, out of its group, and its partitions
unread for as long again."""

# Commit errors meaning that this member's generation is over: its partitions are someone else's.
_REVOKED = frozenset(
    {
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.FENCED_INSTANCE_ID,
        KafkaError.STALE_MEMBER_EPOCH,
        KafkaError.FENCED_MEMBER_EPOCH,
        KafkaError._ASSIGNMENT_LOST,
    }
)


@contextmanager
def _errors(what: str) -> Iterator[None]:
    try:
        yield
    except KafkaException as exc:
        raise transport.TransportError(f"kafka {what}: {exc.args[0]}") from exc


def _take(client: _Client, max_records: int, timeout_s: float) -> list[Message]:
    """What is already fetched, else wait for the first message and take what came with it.

    `consume(n, timeout)` alone waits the whole timeout unless n messages arrive."""
    messages = client.consume(max_records, 0)
    if messages or timeout_s <= 0:
        return messages
    first = client.poll(timeout_s)
    if first is None:
        return []
    return [first, *client.consume(max_records - 1, 0)] if max_records > 1 else [first]


def _list_offsets(
    admin: AdminClient,
    partitions: Sequence[transport.TopicPartition],
    *,
    earliest: bool = False,
    timeout_s: float = REQUEST_TIMEOUT_S,
) -> dict[transport.TopicPartition, int]:
    """End offsets (or log starts), from the admin client's own connection: a consumer's
    would wait behind its long-polling fetch."""
    if not partitions:
        return {}
    spec = OffsetSpec.earliest() if earliest else OffsetSpec.latest()  # type: ignore[no-untyped-call]
    futures = admin.list_offsets(
        {_TP(tp.topic, tp.partition): spec for tp in partitions}, request_timeout=timeout_s
    )
    with _errors("list offsets"):
        try:
            return {
                transport.TopicPartition(tp.topic, tp.partition): future.result(timeout_s).offset
                for tp, future in futures.items()
            }
        except TimeoutError as exc:
            raise transport.TransportError(
                f"kafka list offsets: no answer in {timeout_s:g}s"
            ) from exc


def _record(message: Message) -> transport.Record:
    key, headers = message.key(), message.headers()
    return transport.Record(
        message.topic() or "",
        message.partition() or 0,
        message.offset() or 0,
        key.decode(errors="replace") if key else "",
        message.value() or b"",
        {k: v.decode(errors="replace") if isinstance(v, bytes) else v or "" for k, v in headers}
        if isinstance(headers, list)
        else {},
        message.timestamp()[1],
    )


# A principal may not create topics (on the secured broker only the admin may): the topics must
# exist already, made by the admin (scripts/kafka.sh start, `teacher-hiring kafka-access`).
_NOT_ALLOWED = frozenset(
    {KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.CLUSTER_AUTHORIZATION_FAILED}
)


class KafkaTransport(transport.Transport):
    """Kafka at `bootstrap_servers` ("host:port[,host:port]").

    `client_config` is added to every client's settings: librdkafka's keys, such as
    `security.protocol=SASL_SSL`, `sasl.mechanism`, `sasl.username`, `sasl.password` and
    `ssl.ca.location` for the secured broker of scripts/kafka.sh (messaging/kafka_access.py).
    `reader_group`: the group id of `read`'s consumers, which never join it but whose
    coordinator librdkafka looks up: on the secured broker it must be one of the principal's
    groups (`<prefix><service>.`).
    """

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        default_partitions: int = 6,
        session_timeout_ms: int = 10000,
        client_id: str = "teacher-hiring",
        client_config: Mapping[str, str] | None = None,
        reader_group: str | None = None,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.reader_group = reader_group or f"{client_id}-reader"
        self.default_partitions = default_partitions
        self.session_timeout_ms = session_timeout_ms
        self.client_id = client_id
        self.client_config = dict(client_config or {})
        self._admin_client: AdminClient | None = None
        self._lock = threading.Lock()

    def ensure_topics(self, topics: Sequence[str]) -> None:
        names = list(dict.fromkeys(name for t in topics for name in (t, transport.dlq_topic(t))))
        if not names:
            return
        # -1: the broker's default.replication.factor (1 on the single-node broker of
        # scripts/kafka.sh, more on a real cluster).
        new = [NewTopic(name, self.default_partitions, -1) for name in names]
        futures = self._admin().create_topics(
            new, operation_timeout=REQUEST_TIMEOUT_S, request_timeout=REQUEST_TIMEOUT_S
        )
        refused: list[str] = []
        for name, future in futures.items():
            try:
                future.result()
            except KafkaException as exc:
                code = exc.args[0].code()
                if code in _NOT_ALLOWED:
                    refused.append(name)
                elif code != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise transport.TransportError(
                        f"kafka: creating {name}: {exc.args[0]}"
                    ) from exc
        self._await_metadata(names, refused)

    def create_acls(self, rules: Sequence[Any]) -> None:
        """Allow each rule (messaging.kafka_access.Rule) on the broker; one already there stays.
        Needs a principal allowed to alter the cluster's ACLs (the admin)."""
        if not rules:
            return
        bindings = [
            AclBinding(
                ResourceType[rule.resource.upper()],
                rule.name,
                ResourcePatternType[rule.pattern],
                f"User:{rule.principal}",
                "*",
                AclOperation[rule.operation],
                AclPermissionType.ALLOW,
            )
            for rule in rules
        ]
        futures = self._admin().create_acls(bindings, request_timeout=REQUEST_TIMEOUT_S)
        with _errors("creating ACLs"):
            for future in futures.values():
                future.result()
        self._await_acls(bindings)

    def _await_acls(self, bindings: list[AclBinding]) -> None:
        """The controller answers once it has stored the ACLs; the brokers' authorizers apply
        them a moment later, and until then a client they allow is still refused."""
        anything: Any = None  # a filter's None matches any name, principal, host
        everything = AclBindingFilter(
            ResourceType.ANY,
            anything,
            ResourcePatternType.ANY,
            anything,
            anything,
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
        wanted = {str(b) for b in bindings}
        deadline = time.monotonic() + REQUEST_TIMEOUT_S
        while True:
            with _errors("describing ACLs"):
                found = self._admin().describe_acls(everything, request_timeout=REQUEST_TIMEOUT_S)
                missing = wanted - {str(b) for b in found.result()}
            if not missing:
                return
            if time.monotonic() > deadline:
                raise transport.TransportError(
                    f"kafka: {len(missing)} ACLs not in force after creation, e.g. {min(missing)}"
                )
            time.sleep(0.1)

    def producer(self) -> transport.Producer:
        return _KafkaProducer(
            {
                **self._config(),
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "partitioner": "consistent",
                "message.timeout.ms": DELIVERY_TIMEOUT_MS,
            }
        )

    def consumer(
        self, group: str, topics: Sequence[str], member_id: str | None = None
    ) -> transport.Consumer:
        """`member_id` only names the client in the broker's logs: the coordinator assigns
        Kafka's member ids, and a fixed one (static membership) would keep a closed member's
        partitions until its session ends."""
        session = self.session_timeout_ms
        config = {
            **self._config(),
            "group.id": group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "partition.assignment.strategy": "cooperative-sticky",
            "session.timeout.ms": session,
            "heartbeat.interval.ms": max(100, session // 10),
            "max.poll.interval.ms": session,
        }
        if member_id:
            config["client.id"] = f"{self.client_id}-{member_id}"
        return _GroupMember(config, topics, self._admin)

    def read(self, topic: str, partition: int, offset: int, limit: int) -> list[transport.Record]:
        """A consumer of its own, assigned (not subscribed) to the partition: no group, no
        commits. Stops at `limit` records or at the end of the partition."""
        if limit <= 0:
            return []
        client = _Client(
            {
                **self._config(),
                "group.id": self.reader_group,  # never joined, but looked up: ACLs apply
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
            }
        )
        try:
            with _errors(f"reading {topic}[{partition}]"):
                low, high = client.get_watermark_offsets(_TP(topic, partition), REQUEST_TIMEOUT_S)
                if max(offset, low) >= high:
                    return []
                client.assign([_TP(topic, partition, max(offset, low))])
                return self._read_until(client, min(limit, high - max(offset, low)), high)
        finally:
            client.close()

    def partitions_for(self, topic: str) -> int:
        """0 for a topic that does not exist yet (asking does not create it)."""
        with _errors(f"metadata of {topic}"):
            metadata = self._admin().list_topics(topic, timeout=REQUEST_TIMEOUT_S).topics[topic]
        if metadata.error is not None:
            if metadata.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                return 0
            raise transport.TransportError(f"kafka metadata of {topic}: {metadata.error}")
        return len(metadata.partitions)

    def end_offsets(self, topic: str) -> dict[int, int]:
        count = self.partitions_for(topic)
        if not count:
            return {}
        ends = _list_offsets(
            self._admin(), [transport.TopicPartition(topic, p) for p in range(count)]
        )
        return {tp.partition: offset for tp, offset in ends.items()}

    def start_offsets(self, topic: str) -> dict[int, int]:
        count = self.partitions_for(topic)
        partitions = [transport.TopicPartition(topic, p) for p in range(count)]
        starts = _list_offsets(self._admin(), partitions, earliest=True)
        return {tp.partition: offset for tp, offset in starts.items()}

    def delete_records(self, topic: str, before: Mapping[int, int]) -> None:
        """AdminClient.delete_records: the broker moves each partition's log start offset."""
        if not before:
            return
        futures = self._admin().delete_records(
            [_TP(topic, part, offset) for part, offset in before.items()],
            request_timeout=REQUEST_TIMEOUT_S,
            operation_timeout=REQUEST_TIMEOUT_S,
        )
        with _errors(f"deleting records of {topic}"):
            for future in futures.values():
                future.result()

    def close(self) -> None:
        self._admin_client = None

    def _config(self) -> dict[str, Any]:
        return {
            "bootstrap.servers": self.bootstrap_servers,
            "client.id": self.client_id,
            **self.client_config,
        }

    def _admin(self) -> AdminClient:
        with self._lock:
            if self._admin_client is None:
                # A metadata request for one topic must not create it.
                config = {**self._config(), "allow.auto.create.topics": False}
                self._admin_client = AdminClient(config)
            return self._admin_client

    def _await_metadata(self, names: list[str], refused: Sequence[str] = ()) -> None:
        """Created topics reach the broker's metadata a moment after the controller answers;
        subscribing before that would fail with "unknown topic". `refused`: the topics this
        principal was not allowed to create, which only the admin can make."""
        deadline = time.monotonic() + REQUEST_TIMEOUT_S
        while True:
            with _errors("metadata"):
                known = self._admin().list_topics(timeout=REQUEST_TIMEOUT_S).topics
            missing = [n for n in names if n not in known or not known[n].partitions]
            if not missing:
                return
            if time.monotonic() > deadline or (missing and set(missing) <= set(refused)):
                if set(missing) & set(refused):
                    raise transport.TransportError(
                        f"kafka: topics {missing} do not exist and {self._who()} may not create "
                        "them: the admin creates them (scripts/kafka.sh start, or "
                        "`teacher-hiring kafka-access`)"
                    )
                raise transport.TransportError(
                    f"kafka: topics {missing} not in the metadata after creation"
                )
            time.sleep(0.05)

    def writes_only_as(self) -> str | None:
        """The SCRAM user this client logs in as: on the secured broker it writes only its own
        topics (messaging/kafka_access.py); the admin, a super user, writes any."""
        user = self.client_config.get("sasl.username")
        return None if not user or user == ADMIN_PRINCIPAL else user

    def _who(self) -> str:
        user = self.client_config.get("sasl.username")
        return f"User:{user}" if user else "this client"

    @staticmethod
    def _read_until(client: _Client, limit: int, end: int) -> list[transport.Record]:
        """Up to `limit` records, stopping at the partition's end as it was when asked."""
        records: list[transport.Record] = []
        deadline = time.monotonic() + READ_TIMEOUT_S
        while len(records) < limit and time.monotonic() < deadline:
            for message in _take(client, limit - len(records), deadline - time.monotonic()):
                error = message.error()
                if error is None:
                    records.append(_record(message))
                    if records[-1].offset >= end - 1:
                        return records
                elif error.code() == KafkaError._PARTITION_EOF:
                    return records
                else:
                    raise KafkaException(error)
        return records


class _KafkaProducer(transport.Producer):
    def __init__(self, config: dict[str, Any]) -> None:
        self._client: _ProducerClient | None = _ProducerClient(config)
        self._lock = threading.Lock()  # a flush waits for every send's messages: one at a time

    def send(self, messages: Sequence[transport.OutgoingMessage]) -> None:
        """Not atomic as the embedded log's is: if it raises, some messages may be stored, and
        sending them again duplicates them (consumers' inboxes absorb that)."""
        if not messages:
            return
        failures: list[str] = []

        def delivered(error: KafkaError | None, message: Message) -> None:
            if error is not None:
                failures.append(f"{message.topic()}: {error.str()}")

        with self._lock, _errors("produce"):
            if self._client is None:
                raise transport.TransportError("kafka producer is closed")
            for message in messages:
                self._produce(self._client, message, delivered)
            undelivered = self._client.flush(DELIVERY_TIMEOUT_MS / 1000 + 5)
        if undelivered or failures:
            raise transport.TransportError(
                f"kafka: {len(failures) + undelivered} of {len(messages)} messages not delivered"
                + (f" ({failures[0]})" if failures else "")
            )

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
            if client is not None:
                client.flush(DELIVERY_TIMEOUT_MS / 1000 + 5)
                client.close()

    @staticmethod
    def _produce(
        client: _ProducerClient, message: transport.OutgoingMessage, delivered: Any
    ) -> None:
        while True:
            try:
                client.produce(
                    message.topic,
                    message.value,
                    message.key,
                    on_delivery=delivered,
                    headers=dict(message.headers) or None,
                )
                return
            except BufferError:  # the local queue is full: let deliveries make room
                client.poll(0.05)


class _GroupMember(transport.Consumer):
    """One member of a consumer group."""

    def __init__(
        self, config: dict[str, Any], topics: Sequence[str], admin: Callable[[], AdminClient]
    ) -> None:
        # The callbacks close over the set, not over self: no cycle delays __del__.
        owned: set[transport.TopicPartition] = set()

        def assigned(_: _Client, partitions: list[_TP]) -> None:
            owned.update(transport.TopicPartition(p.topic, p.partition) for p in partitions)

        def revoked(_: _Client, partitions: list[_TP]) -> None:
            owned.difference_update(
                transport.TopicPartition(p.topic, p.partition) for p in partitions
            )

        self._owned = owned
        self._admin = admin
        self._pending: KafkaError | None = None
        with _errors("subscribe"):
            self._client: _Client | None = _Client(config)
            self._client.subscribe(
                list(dict.fromkeys(topics)), on_assign=assigned, on_revoke=revoked, on_lost=revoked
            )

    def poll(self, max_records: int, timeout_s: float) -> list[transport.Record]:
        """Rebalances happen inside this call (librdkafka runs the callbacks here)."""
        client = self._open()
        if self._pending is not None:
            error, self._pending = self._pending, None
            raise transport.TransportError(f"kafka consumer: {error}")
        if max_records <= 0:
            return []
        deadline = time.monotonic() + timeout_s
        with _errors("poll"):
            while True:
                records = self._records(_take(client, max_records, deadline - time.monotonic()))
                if records or time.monotonic() >= deadline:
                    return records

    def commit(self, offsets: Mapping[transport.TopicPartition, int]) -> None:
        client = self._open()
        if not offsets:
            return
        foreign = [tp for tp in offsets if tp not in self._owned]
        if foreign:
            raise transport.PartitionsRevoked(f"kafka: no longer owns {foreign}")
        request = [_TP(tp.topic, tp.partition, offset) for tp, offset in offsets.items()]
        try:
            result = client.commit(offsets=request, asynchronous=False)
        except KafkaException as exc:
            raise self._commit_error(exc.args[0]) from exc
        errors = [p.error for p in result if p.error is not None]
        if errors:
            raise self._commit_error(errors[0])

    def seek(self, partition: transport.TopicPartition, offset: int) -> None:
        """A partition this member no longer owns is ignored, as on the embedded log."""
        client = self._open()
        if partition in self._owned:
            with _errors(f"seek {partition}"):
                client.seek(_TP(partition.topic, partition.partition, offset))

    def assignment(self) -> set[transport.TopicPartition]:
        return set(self._owned)

    def lag(self) -> dict[transport.TopicPartition, int]:
        """High watermark minus committed offset; with nothing committed, minus the log start
        (where the member would begin)."""
        client = self._open()
        owned = list(self._owned)
        if not owned:
            return {}
        with _errors("committed offsets"):
            committed = {
                transport.TopicPartition(p.topic, p.partition): p.offset
                for p in client.committed(
                    [_TP(tp.topic, tp.partition) for tp in owned], LAG_TIMEOUT_S
                )
                if p.offset >= 0
            }
        ends = _list_offsets(self._admin(), owned, timeout_s=LAG_TIMEOUT_S)
        starts = _list_offsets(
            self._admin(),
            [tp for tp in owned if tp not in committed],
            earliest=True,
            timeout_s=LAG_TIMEOUT_S,
        )
        return {tp: max(0, ends[tp] - committed.get(tp, starts.get(tp, 0))) for tp in owned}

    def close(self) -> None:
        """Leaves the group: the coordinator moves the partitions at once."""
        client, self._client = self._client, None
        self._owned.clear()
        if client is not None:
            with _errors("close"):
                client.close()

    def __del__(self) -> None:
        """A member dropped without close() leaves the group too: confluent-kafka destroys an
        unclosed consumer with librdkafka's "no consumer close" flag, which sometimes never
        returns (a thread of librdkafka spins at 100% CPU)."""
        with suppress(Exception):
            self.close()

    def _open(self) -> _Client:
        if self._client is None:
            raise transport.TransportError("kafka consumer is closed")
        return self._client

    def _records(self, messages: list[Message]) -> list[transport.Record]:
        """Records of the messages; an error raises, or waits for the next poll if records
        came with it (raising now would lose them: the position is already past them)."""
        records: list[transport.Record] = []
        error: KafkaError | None = None
        for message in messages:
            problem = message.error()
            if problem is None:
                records.append(_record(message))
            elif problem.code() != KafkaError._PARTITION_EOF and error is None:
                error = problem
        if error is not None and not records:
            raise KafkaException(error)
        self._pending = self._pending or error
        return records

    def _commit_error(self, error: KafkaError) -> transport.TransportError:
        if error.code() in _REVOKED:
            return transport.PartitionsRevoked(f"kafka commit: {error.str()}")
        return transport.TransportError(f"kafka commit: {error.str()}")
