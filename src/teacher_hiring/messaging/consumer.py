"""The consumer runner: reads a group's records and applies them exactly once per effect.

For each record: parse (either layout of messaging.wire) and validate (a poison record goes
straight to `<topic>.dlq`), upcast to the version the handler expects, then, in one database
transaction, claim the event in the inbox and run the handler. The records of a poll share
one transaction, so throughput does not pay a commit per event: first all together, their
inbox claims in one statement, and a handler that can apply several events at once (its
`many`) is given each run of consecutive events it handles in one call; if any of them fails,
that transaction rolls back whole and the records are applied again with a savepoint each,
one by one through `fn`, which isolates the failing one. Offsets
are committed to the transport only after the database commit; a crash in between
re-delivers, and the inbox absorbs it. A handler that keeps failing is retried with
exponential backoff, then dead-lettered with its error, and the partition moves on.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy import Connection, Engine

from teacher_hiring.foundation.redaction import (
    describe_error,
    personal_values,
    personal_values_in_json,
    scrub_text,
)
from teacher_hiring.messaging import inbox, metrics
from teacher_hiring.messaging.envelope import Envelope, MalformedEvent
from teacher_hiring.messaging.registry import SchemaRegistry, SchemaViolation
from teacher_hiring.messaging.tracing import traced
from teacher_hiring.messaging.transport import (
    Consumer,
    OutgoingMessage,
    PartitionsRevoked,
    Producer,
    Record,
    TopicPartition,
    Transport,
    TransportError,
    dlq_topic,
)
from teacher_hiring.messaging.upcasting import Upcaster
from teacher_hiring.messaging.wire import RecordCodec

log = structlog.get_logger(__name__)

Handler = Callable[[Envelope, Connection], None]
BatchHandler = Callable[[Sequence[Envelope], Connection], None]


@dataclass(frozen=True)
class EventHandler:
    """A handler and the event version it is written for.

    Its subscription accepts every version of the event in the registry up to this one: older
    ones are upcast to it first; newer ones are dead-lettered, since this code cannot read them.

    `many`, when given, applies several events (claimed, upcast, in poll order) in one call,
    with the effect of `fn` on each in turn: the runner hands it every run of consecutive
    events of a poll whose handlers share it. If it raises, the poll is applied again one
    event at a time through `fn`, so `fn` alone decides which event fails. Events applied
    together are not run under their own trace id; `many` names it where it logs.
    """

    fn: Handler
    version: int = 0
    many: BatchHandler | None = None


@dataclass
class Subscription:
    """One consumer group of one service: the topics it reads and a handler per event name."""

    group: str
    handlers: Mapping[str, EventHandler]
    topics: Sequence[str] = ()


def version_gaps(
    subscription: Subscription, registry: SchemaRegistry, upcaster: Upcaster
) -> list[str]:
    """What keeps the subscription from reading every registered version of its events up to
    its handlers' versions; empty when nothing does."""
    gaps: list[str] = []
    for name, handler in subscription.handlers.items():
        versions = registry.spec(name).versions
        if handler.version not in versions:
            known = ", ".join(f"v{v}" for v in versions)
            gaps.append(f"{name}: the handler reads v{handler.version}, the registry has {known}")
            continue
        gaps += [
            f"no upcaster for {step}"
            for step in upcaster.missing_steps(name, versions[0], handler.version)
        ]
    return gaps


class _Poison(Exception):
    """A record that no retry can fix: it is dead-lettered at once, for `reason`."""

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


WRONG_PRODUCER = "wrong_producer"
"""The dead-letter reason of an event that came on a topic its producer does not write."""


@dataclass
class ConsumerRunner:
    service: str
    subscription: Subscription
    transport: Transport
    registry: SchemaRegistry
    engine: Engine
    # The steps to the handlers' versions; the service composes them (none: every handler
    # reads the oldest version the registry has, or the runner refuses to start).
    upcaster: Upcaster = field(default_factory=Upcaster)
    max_attempts: int = 5
    backoff_base_s: float = 0.05
    backoff_max_s: float = 2.0
    batch_size: int = 500
    poll_timeout_s: float = 0.05
    linger_s: float = 0.01
    member_id: str | None = None
    lag_report_interval_s: float = 1.0
    _consumer: Consumer | None = None
    _dlq: Producer | None = None
    _lag_reported_at: float = 0.0
    _codec: RecordCodec = field(init=False)

    def __post_init__(self) -> None:
        self._codec = RecordCodec(self.registry)
        gaps = version_gaps(self.subscription, self.registry, self.upcaster)
        if gaps:
            raise ValueError(
                f"consumer {self.group} cannot read every version it subscribes to: "
                + "; ".join(gaps)
            )

    @property
    def group(self) -> str:
        return self.subscription.group

    def topics(self) -> list[str]:
        if self.subscription.topics:
            return list(self.subscription.topics)
        names = self.subscription.handlers
        return sorted({self.registry.spec(name).topic for name in names})

    def start(self) -> None:
        self.transport.ensure_topics(self.topics())
        self._consumer = self.transport.consumer(self.group, self.topics(), self.member_id)
        self._dlq = self.transport.producer()

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
        if self._dlq is not None:
            self._dlq.close()
            self._dlq = None

    def run(self, stop: threading.Event) -> None:
        self.start()
        try:
            while not stop.is_set():
                try:
                    self.run_once()
                except Exception:
                    log.exception("consumer.loop_failed", group=self.group)
                    stop.wait(self.backoff_base_s)
        finally:
            self.close()

    def run_once(self) -> int:
        """Poll once and apply what came; returns how many records were consumed."""
        assert self._consumer is not None, "start() first"
        records = self._consumer.poll(self.batch_size, self.poll_timeout_s)
        if not records:
            self._report_lag()
            return 0
        if len(records) < self.batch_size and self.linger_s > 0:
            # Like Kafka's fetch.wait.max.ms: under a steady trickle, a short wait turns many
            # one-event transactions (each with its commit and offset write) into one.
            time.sleep(self.linger_s)
            records += self._consumer.poll(self.batch_size - len(records), 0)
        try:
            done, failed = self._apply_batch(records)
            if failed is not None:
                self._rewind(records, done, failed)
                self._apply_with_retries(failed)
                done.append(failed)
        except Exception:
            # The database refused the transaction itself (it is away, the session was ended):
            # nothing of this poll is known to be applied, and the consumer's position is
            # already past it. Read it all again next time; the inbox drops what was applied.
            self._read_again(records)
            raise
        self._commit(done)
        return len(done)

    # -- one batch, one transaction ------------------------------------------------------------

    def _apply_batch(self, records: list[Record]) -> tuple[list[Record], Record | None]:
        """Apply the records; those in `done` are committed, `failed` is the first that failed.

        Together first (one transaction, one inbox statement, no savepoints: on PostgreSQL
        each savepoint is a round trip of its own, twice per event); if a record is poison
        or a handler raises, that transaction rolls back whole and the records are applied
        one savepoint each, which dead-letters the poison and isolates the failing event.
        """
        if self._apply_together(records):
            return list(records), None
        return self._apply_each(records)

    def _apply_together(self, records: list[Record]) -> bool:
        """All the records in one transaction, or nothing (False) if any of them fails.

        Side effects outside the transaction (metrics) wait for its commit, so a batch
        applied again one by one is counted once.
        """
        envelopes: list[Envelope] = []
        ignored: list[str] = []
        for record in records:
            try:
                envelope = self._parse(record)
            except _Poison:
                return False  # dead-lettered once, by the one-by-one pass
            if envelope.event_name in self.subscription.handlers:
                envelopes.append(envelope)
            else:
                ignored.append(envelope.event_name)
        started = time.perf_counter()
        outcomes: Counter[tuple[str, str]] = Counter((name, "ignored") for name in ignored)
        applied: list[Envelope] = []
        try:
            with self.engine.begin() as conn:
                claimed = inbox.claim_many(conn, self.group, envelopes)
                for envelope in envelopes:
                    if envelope.event_id not in claimed:
                        outcomes[envelope.event_name, "duplicate"] += 1
                        continue
                    claimed.discard(envelope.event_id)  # a second copy in this poll: duplicate
                    outcomes[envelope.event_name, "applied"] += 1
                    applied.append(envelope)
                self._handle_all(applied, conn)
        except Exception as exc:
            log.info(
                "consumer.batch_retried_one_by_one",
                group=self.group,
                error=describe_error(exc, _personal(envelopes)),
            )
            return False
        # Counted once per label set, not per event: a label lookup costs as much as a row.
        for (event_name, outcome), count in outcomes.items():
            metrics.PROCESSED.labels(self.service, self.group, event_name, outcome).inc(count)
        versions = Counter((e.event_name, e.event_version) for e in applied)
        for (event_name, version), count in versions.items():
            labels = (self.service, self.group, event_name, str(version))
            metrics.CONSUMED_VERSIONS.labels(*labels).inc(count)
        handled = len(envelopes)
        if handled:
            per_event = (time.perf_counter() - started) / handled
            metrics.HANDLER_SECONDS.labels(self.service, self.group).observe(per_event)
        return True

    def _handle_all(self, envelopes: list[Envelope], conn: Connection) -> None:
        """Run the handlers of claimed events in order: each run of consecutive events whose
        handlers share a `many` in one call of it, every other event through its `fn`."""
        handlers = self.subscription.handlers
        run: list[Envelope] = []
        run_many: BatchHandler | None = None
        for envelope in envelopes:
            handler = handlers[envelope.event_name]
            upcast = self.upcaster.upcast(envelope, handler.version)
            if handler.many is not None and handler.many is run_many:
                run.append(upcast)
                continue
            if run_many is not None:
                run_many(run, conn)
            run, run_many = [], None
            if handler.many is not None:
                run, run_many = [upcast], handler.many
                continue
            with traced(envelope.trace_id):
                handler.fn(upcast, conn)
        if run_many is not None:
            run_many(run, conn)

    def _apply_each(self, records: list[Record]) -> tuple[list[Record], Record | None]:
        done: list[Record] = []
        started = time.perf_counter()
        with self.engine.begin() as conn:
            for record in records:
                try:
                    envelope = self._decode(record)
                except _Poison as exc:
                    error = scrub_text(str(exc), personal_values_in_json(record.value))
                    self._dead_letter(record, exc.reason, error, attempts=0)
                    done.append(record)
                    continue
                if envelope is None:
                    done.append(record)
                    continue
                # Plain SQL savepoints: begin_nested() compiles a new name per event.
                conn.exec_driver_sql("SAVEPOINT consumer_event")
                try:
                    self._apply(envelope, conn)
                except Exception:
                    conn.exec_driver_sql("ROLLBACK TO SAVEPOINT consumer_event")
                    conn.exec_driver_sql("RELEASE SAVEPOINT consumer_event")
                    metrics.FAILED.labels(self.service, self.group, envelope.event_name).inc()
                    return done, record
                conn.exec_driver_sql("RELEASE SAVEPOINT consumer_event")
                done.append(record)
        if done:
            per_event = (time.perf_counter() - started) / len(done)
            histogram = metrics.HANDLER_SECONDS.labels(self.service, self.group)
            histogram.observe(per_event)
        return done, None

    def _apply(self, envelope: Envelope, conn: Connection) -> None:
        handler = self.subscription.handlers[envelope.event_name]
        with traced(envelope.trace_id):
            if inbox.claim(conn, self.group, envelope):
                handler.fn(self.upcaster.upcast(envelope, handler.version), conn)
                outcome = "applied"
                self._count_version(envelope)
            else:
                outcome = "duplicate"
        metrics.PROCESSED.labels(self.service, self.group, envelope.event_name, outcome).inc()

    def _count_version(self, envelope: Envelope) -> None:
        """Applied events by the version they were produced in, before any upcasting: how an
        operator sees the old version drain during a migration."""
        metrics.CONSUMED_VERSIONS.labels(
            self.service, self.group, envelope.event_name, str(envelope.event_version)
        ).inc()

    def _decode(self, record: Record) -> Envelope | None:
        """The envelope, None for an event this group does not handle, or _Poison."""
        envelope = self._parse(record)
        if envelope.event_name not in self.subscription.handlers:
            metrics.PROCESSED.labels(self.service, self.group, envelope.event_name, "ignored").inc()
            return None
        return envelope

    def _parse(self, record: Record) -> Envelope:
        """The valid envelope, or _Poison (also for a version newer than its handler reads)."""
        try:
            envelope = self._codec.decode(record.value, record.headers)
            self.registry.validate(envelope.as_dict())
        except (MalformedEvent, SchemaViolation) as exc:
            raise _Poison(str(exc)) from exc
        handler = self.subscription.handlers.get(envelope.event_name)
        if handler is not None:
            self._check_producer(record, envelope)
        if handler is not None and envelope.event_version > handler.version:
            raise _Poison(
                f"{envelope.event_name} v{envelope.event_version} is newer than this consumer "
                f"reads (v{handler.version}); replay it once a consumer that reads it runs"
            )
        return envelope

    def _check_producer(self, record: Record, envelope: Envelope) -> None:
        """Who wrote an event is judged from the topic it came on, which the broker lets only
        the event's producer write (docs/security.md), never from a header or payload field,
        which anyone who can write any topic can set: a `BonusAdded` on `payments` was not
        written by hiring, whatever its `producer` header says."""
        spec = self.registry.spec(envelope.event_name)
        if record.topic == spec.topic:
            return
        writer = self.registry.topic_owner(record.topic)
        raise _Poison(
            f"{envelope.event_name} came on topic {record.topic}, which "
            + (f"only {writer} may write" if writer else "no producer of the catalogue writes")
            + f"; its producer {spec.producer} writes it to {spec.topic} only",
            reason=WRONG_PRODUCER,
        )

    # -- failures: retry alone, then dead-letter -----------------------------------------------

    def _rewind(self, records: list[Record], done: list[Record], failed: Record) -> None:
        """Make the transport re-deliver what this batch did not get to, after `failed`."""
        assert self._consumer is not None
        finished = {(r.topic, r.partition, r.offset) for r in done}
        finished.add((failed.topic, failed.partition, failed.offset))
        first_left: dict[TopicPartition, int] = {}
        for record in records:
            if (record.topic, record.partition, record.offset) in finished:
                continue
            tp = record.topic_partition
            first_left[tp] = min(first_left.get(tp, record.offset), record.offset)
        for tp, offset in first_left.items():
            self._consumer.seek(tp, offset)

    def _read_again(self, records: list[Record]) -> None:
        """Move each partition of the poll back to its first record in it."""
        assert self._consumer is not None
        first: dict[TopicPartition, int] = {}
        for record in records:
            tp = record.topic_partition
            first[tp] = min(first.get(tp, record.offset), record.offset)
        for tp, offset in first.items():
            self._consumer.seek(tp, offset)

    def _apply_with_retries(self, record: Record) -> None:
        envelope = self._decode(record)
        assert envelope is not None
        error = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self.engine.begin() as conn:
                    self._apply(envelope, conn)
                return
            except Exception as exc:
                # The class and a message without the event's personal fields: the text is
                # logged and kept with the dead letter.
                error = describe_error(exc, _personal([envelope]))
                metrics.FAILED.labels(self.service, self.group, envelope.event_name).inc()
                log.warning(
                    "consumer.handler_failed",
                    group=self.group,
                    event_name=envelope.event_name,
                    event_id=envelope.event_id,
                    attempt=attempt,
                    error=error,
                )
                if attempt < self.max_attempts:
                    time.sleep(min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1)))
        self._dead_letter(record, "failed", error, attempts=self.max_attempts)

    def _dead_letter(self, record: Record, reason: str, error: str, *, attempts: int) -> None:
        assert self._dlq is not None
        headers = {
            **record.headers,
            "dlq_reason": reason,
            "dlq_error": error[:2000],
            "dlq_consumer": self.group,
            "dlq_service": self.service,
            "dlq_attempts": str(attempts),
            "original_topic": record.topic,
            "original_partition": str(record.partition),
            "original_offset": str(record.offset),
            "dead_lettered_at": str(time.time()),
        }
        self._dlq.send(
            [OutgoingMessage(dlq_topic(record.topic), record.key, record.value, headers)]
        )
        metrics.DEAD_LETTERED.labels(self.service, self.group, record.topic, reason).inc()
        log.error(
            "consumer.dead_lettered",
            group=self.group,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
            error=error,
        )

    # -- offsets ---------------------------------------------------------------------------------

    def _commit(self, done: list[Record]) -> None:
        assert self._consumer is not None
        offsets: dict[TopicPartition, int] = {}
        for record in done:
            tp = record.topic_partition
            offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
        if not offsets:
            return
        try:
            self._consumer.commit(offsets)
        except PartitionsRevoked:
            log.info("consumer.partitions_revoked", group=self.group)

    def _report_lag(self) -> None:
        assert self._consumer is not None
        now = time.monotonic()
        if now - self._lag_reported_at < self.lag_report_interval_s:
            return
        self._lag_reported_at = now
        try:
            lags = self._consumer.lag()
        except TransportError as exc:
            # A metric: while the broker cannot say, the gauge keeps its last value and the
            # runner goes on polling (failing here would cost the loop its backoff).
            log.info("consumer.lag_unknown", group=self.group, error=str(exc))
            return
        per_topic: dict[str, int] = {}
        for tp, lag in lags.items():
            per_topic[tp.topic] = per_topic.get(tp.topic, 0) + lag
        for topic, lag in per_topic.items():
            metrics.CONSUMER_LAG.labels(self.service, self.group, topic).set(lag)


def _personal(envelopes: Sequence[Envelope]) -> list[str]:
    """What the events hold under personal keys: cut out of any error text about them."""
    return [value for envelope in envelopes for value in personal_values(envelope.payload)]
