"""Outbox → relay → embedded log → consumer runner → inbox, on SQLite files and on PostgreSQL.

Each test is a way delivery can go wrong (rollback, crash between send and mark, redelivery,
poison, a handler that fails) and checks that every effect happens exactly once.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from event_examples import example_payload
from sqlalchemy import Connection, Engine

from teacher_hiring.messaging import metrics
from teacher_hiring.messaging.consumer import ConsumerRunner, EventHandler, Subscription
from teacher_hiring.messaging.embedded_log import EmbeddedLog
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.inbox import claim_many
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.messaging.registry import SchemaRegistry, SchemaViolation
from teacher_hiring.messaging.relay import OutboxRelay
from teacher_hiring.messaging.sinks import LogSink, Sink
from teacher_hiring.messaging.tables import inbox, metadata, outbox
from teacher_hiring.messaging.transport import OutgoingMessage, dlq_topic
from teacher_hiring.runtime.db import dispose, make_engine

pytestmark = pytest.mark.integration

effects = sa.Table(
    "effects",
    metadata,
    sa.Column("event_id", sa.String(36)),
    sa.Column("manager_id", sa.String(36)),
)

# A replica of people whose insert the database refuses (a CHECK): its error quotes the row on
# PostgreSQL ("Failing row contains ...") and SQLAlchemy adds the parameters unless hidden.
people = sa.Table(
    "people_replica",
    metadata,
    sa.Column("manager_id", sa.String(36)),
    sa.Column("name", sa.String(200)),
    sa.Column("email", sa.String(320)),
    sa.Column("refused", sa.Integer, sa.CheckConstraint("refused = 0")),
)


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load()


def record_effect(envelope: Envelope, conn: Connection) -> None:
    conn.execute(
        effects.insert().values(
            event_id=envelope.event_id, manager_id=envelope.payload["manager_id"]
        )
    )


def effect_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(effects)).scalar_one())


def make_runner(
    engine: Engine, log: EmbeddedLog, registry: SchemaRegistry, handler: Any = record_effect
) -> ConsumerRunner:
    runner = ConsumerRunner(
        service="test",
        subscription=Subscription("test.managers", {"ManagerCreated": EventHandler(handler)}),
        transport=log,
        registry=registry,
        engine=engine,
        max_attempts=3,
        backoff_base_s=0.001,
    )
    runner.start()
    return runner


def drain(runner: ConsumerRunner, rounds: int = 20) -> None:
    for _ in range(rounds):
        runner.run_once()


def stage_managers(engine: Engine, box: Outbox, count: int) -> list[str]:
    ids = []
    with engine.begin() as conn:
        for _ in range(count):
            payload = example_payload("ManagerCreated")
            payload["manager_id"] = str(uuid.uuid4())
            ids.append(box.stage(conn, "ManagerCreated", payload, version=0).event_id)
    return ids


class _DownSink(Sink):
    name = "http-push"

    def __init__(self) -> None:
        self.calls = 0

    def deliver(self, rows: Any) -> None:
        self.calls += 1
        raise ConnectionError("receiver is down")


class DeliveryContract:
    """Run against each (database, transport) pair by subclasses providing `engine` and `log`.

    `engine` is a service database with the messaging tables and `effects`; `log` a transport
    whose topics have 3 partitions.
    """

    def test_event_staged_in_a_rolled_back_transaction_is_never_sent(
        self, engine: Engine, log: EmbeddedLog, registry: SchemaRegistry
    ) -> None:
        box = Outbox(registry, producer="exercises")
        with pytest.raises(RuntimeError), engine.begin() as conn:
            box.stage(conn, "ManagerCreated", example_payload("ManagerCreated"), version=0)
            raise RuntimeError("the state change failed")
        relay = OutboxRelay(engine, LogSink(log.producer()), service="test")
        assert relay.run_once() == 0
        assert log.end_offsets("managers") == {} or sum(log.end_offsets("managers").values()) == 0

    def test_invalid_event_is_refused_at_the_producer_and_nothing_is_written(
        self, engine: Engine, registry: SchemaRegistry
    ) -> None:
        box = Outbox(registry, producer="exercises")
        payload = example_payload("ManagerCreated")
        del payload["email"]
        with pytest.raises(SchemaViolation, match="email"), engine.begin() as conn:
            box.stage(conn, "ManagerCreated", payload, version=0)
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one() == 0

    def test_relay_sends_each_row_once_in_commit_order_and_marks_it_sent(
        self, engine: Engine, log: EmbeddedLog, registry: SchemaRegistry
    ) -> None:
        box = Outbox(registry, producer="exercises")
        staged = stage_managers(engine, box, 50)
        relay = OutboxRelay(engine, LogSink(log.producer()), service="test", batch_size=20)
        assert relay.flush(timeout_s=5)
        assert relay.run_once() == 0
        sent = [
            r.headers["ce_id"]
            for p in range(log.partitions_for("managers"))
            for r in log.read("managers", p, 0, 1000)
        ]
        assert sorted(sent) == sorted(staged)
        assert relay.backlog() == 0

    def test_crash_between_send_and_mark_redelivers_but_the_effect_happens_once(
        self, engine: Engine, log: EmbeddedLog, registry: SchemaRegistry
    ) -> None:
        box = Outbox(registry, producer="exercises")
        stage_managers(engine, box, 10)
        relay = OutboxRelay(engine, LogSink(log.producer()), service="test")
        relay.run_once()
        with engine.begin() as conn:  # as if the relay died before marking the rows sent
            conn.execute(outbox.update().values(sent_at=None))
        relay.run_once()
        assert sum(log.end_offsets("managers").values()) == 20
        runner = make_runner(engine, log, registry)
        drain(runner)
        assert effect_count(engine) == 10

    def test_a_consumer_restarted_before_committing_applies_nothing_twice(
        self, engine: Engine, log: EmbeddedLog, registry: SchemaRegistry
    ) -> None:
        box = Outbox(registry, producer="exercises")
        stage_managers(engine, box, 30)
        OutboxRelay(engine, LogSink(log.producer()), service="test").flush()
        first = make_runner(engine, log, registry)
        assert first._consumer is not None
        records = first._consumer.poll(100, 1.0)
        first._apply_batch(records)  # applied and committed to the database, offsets not committed
        first.close()
        second = make_runner(engine, log, registry)
        drain(second)
        assert effect_count(engine) == 30
        assert sum(second._consumer.lag().values()) == 0  # type: ignore[union-attr]

    def test_handler_that_fails_twice_then_succeeds_is_applied_once(
        self, engine: Engine, log: EmbeddedLog, registry: SchemaRegistry
    ) -> None:
        failures = {"left": 2}

        def flaky(envelope: Envelope, conn: Connection) -> None:
            record_effect(envelope, conn)
            if failures["left"]:
                failures["left"] -= 1
                raise RuntimeError("database hiccup")

        box = Outbox(registry, producer="exercises")
        stage_managers(engine, box, 5)
        OutboxRelay(engine, LogSink(log.producer()), service="test").flush()
        runner = make_runner(engine, log, registry, flaky)
        drain(runner)
        assert effect_count(engine) == 5
        assert sum(log.end_offsets(dlq_topic("managers")).values()) == 0

    def test_handler_that_always_fails_is_dead_lettered_and_the_partition_moves_on(
        self, engine: Engine, log: EmbeddedLog, registry: SchemaRegistry
    ) -> None:
        box = Outbox(registry, producer="exercises")
        ids = stage_managers(engine, box, 6)
        poisoned = ids[2]

        def fails_on_one(envelope: Envelope, conn: Connection) -> None:
            if envelope.event_id == poisoned:
                raise ValueError("cannot apply this one")
            record_effect(envelope, conn)

        OutboxRelay(engine, LogSink(log.producer()), service="test").flush()
        runner = make_runner(engine, log, registry, fails_on_one)
        drain(runner)
        assert effect_count(engine) == 5
        dead = [r for p in range(3) for r in log.read(dlq_topic("managers"), p, 0, 10)]
        assert len(dead) == 1
        assert dead[0].headers["ce_id"] == poisoned
        assert dead[0].headers["dlq_reason"] == "failed"
        assert "cannot apply this one" in dead[0].headers["dlq_error"]
        assert sum(runner._consumer.lag().values()) == 0  # type: ignore[union-attr]

    def test_a_dead_letter_keeps_the_error_class_but_no_personal_field_of_the_event(
        self, engine: Engine, log: EmbeddedLog, registry: SchemaRegistry
    ) -> None:
        payload = {
            **example_payload("ManagerCreated"),
            "name": "Zinaida Personova",
            "email": "zinaida.personova@mail.example",
        }
        box = Outbox(registry, producer="exercises")
        with engine.begin() as conn:
            box.stage(conn, "ManagerCreated", payload, version=0)

        def refused(envelope: Envelope, conn: Connection) -> None:
            row = {k: envelope.payload[k] for k in ("manager_id", "name", "email")}
            conn.execute(people.insert().values(**row, refused=1))

        OutboxRelay(engine, LogSink(log.producer()), service="test").flush()
        drain(make_runner(engine, log, registry, refused), 3)
        dead = [r for p in range(3) for r in log.read(dlq_topic("managers"), p, 0, 10)]
        assert len(dead) == 1
        error = dead[0].headers["dlq_error"]
        assert error.startswith("sqlalchemy.exc.IntegrityError: (")
        assert "people_replica" in error or "refused" in error  # which constraint
        headers = " ".join(f"{k}={v}" for k, v in dead[0].headers.items())
        for value in ("Zinaida", "Personova", "zinaida.personova@mail.example"):
            assert value not in headers

    def test_a_poison_record_quoting_personal_fields_is_dead_lettered_without_them(
        self, engine: Engine, log: EmbeddedLog, registry: SchemaRegistry
    ) -> None:
        good = Envelope.new(
            "ManagerCreated", 0, example_payload("ManagerCreated"), producer="exercises"
        )
        payload = {**good.payload, "name": ["Zinaida Personova"], "email": {"at": "z@x.example"}}
        log.ensure_topics(["managers"])
        raw = orjson.dumps({**good.as_dict(), "payload": payload})
        log.producer().send([OutgoingMessage("managers", "k", raw)])
        drain(make_runner(engine, log, registry), 3)
        dead = [r for p in range(3) for r in log.read(dlq_topic("managers"), p, 0, 10)]
        assert len(dead) == 1 and dead[0].headers["dlq_reason"] == "invalid"
        error = dead[0].headers["dlq_error"]
        assert "ManagerCreated" in error
        assert "Zinaida Personova" not in error and "z@x.example" not in error

    @pytest.mark.parametrize(
        ("raw", "why"),
        [
            (b"{not json", "not valid JSON"),
            (b"[1, 2]", "JSON object"),
            (orjson.dumps({"event_id": "x"}), "missing"),
            ("unknown-name", "NoSuchEvent"),
            ("bad-field", "email"),
        ],
    )
    def test_poison_messages_go_to_the_dead_letter_topic_with_their_reason(
        self, engine: Engine, log: EmbeddedLog, registry: SchemaRegistry, raw: Any, why: str
    ) -> None:
        good = Envelope.new(
            "ManagerCreated", 0, example_payload("ManagerCreated"), producer="exercises"
        )
        if raw == "unknown-name":
            raw = orjson.dumps({**good.as_dict(), "event_name": "NoSuchEvent"})
        elif raw == "bad-field":
            payload = {**good.payload, "email": 42}
            raw = orjson.dumps({**good.as_dict(), "payload": payload})
        log.ensure_topics(["managers"])
        log.producer().send(
            [
                OutgoingMessage("managers", "k", raw),
                OutgoingMessage("managers", "k", good.to_json()),
            ]
        )
        runner = make_runner(engine, log, registry)
        drain(runner, 3)
        assert effect_count(engine) == 1
        dead = [r for p in range(3) for r in log.read(dlq_topic("managers"), p, 0, 10)]
        assert len(dead) == 1
        assert dead[0].value == raw
        assert dead[0].headers["dlq_reason"] == "invalid"
        assert why in dead[0].headers["dlq_error"]

    def test_an_unreachable_push_receiver_does_not_hold_back_other_events(
        self, engine: Engine, log: EmbeddedLog, registry: SchemaRegistry
    ) -> None:
        box = Outbox(registry, producer="exercises")
        with engine.begin() as conn:
            for _ in range(3):
                box.stage(conn, "ExerciseUpdated", example_payload("ExerciseUpdated"), version=0)
        stage_managers(engine, box, 4)
        down = _DownSink()
        relay = OutboxRelay(
            engine,
            LogSink(log.producer()),
            service="test",
            route=lambda name: down if name == "ExerciseUpdated" else None,
            backoff_base_s=10,
        )
        relay.run_once()
        relay.run_once()
        assert sum(log.end_offsets("managers").values()) == 4
        assert relay.backlog() == 3
        assert down.calls == 1  # backed off after the first failure

    def test_relay_and_consumer_threads_deliver_everything_exactly_once(
        self, engine: Engine, log: EmbeddedLog, registry: SchemaRegistry
    ) -> None:
        box = Outbox(registry, producer="exercises")
        stop = threading.Event()
        relay = OutboxRelay(engine, LogSink(log.producer()), service="test", batch_size=50)
        runner = make_runner(engine, log, registry)
        threads = [
            threading.Thread(target=relay.run, args=(stop,)),
            threading.Thread(target=runner.run, args=(stop,)),
        ]
        for thread in threads:
            thread.start()
        try:
            for _ in range(20):
                stage_managers(engine, box, 25)
            deadline = 200
            while effect_count(engine) < 500 and deadline:
                stop.wait(0.05)
                deadline -= 1
        finally:
            stop.set()
            for thread in threads:
                thread.join(10)
        assert effect_count(engine) == 500
        with engine.connect() as conn:
            distinct = conn.execute(
                sa.select(sa.func.count(sa.distinct(effects.c.event_id)))
            ).scalar()
        assert distinct == 500

    def test_an_event_twice_in_one_poll_is_applied_once(
        self, engine: Engine, log: EmbeddedLog, registry: SchemaRegistry
    ) -> None:
        events = [
            Envelope.new("ManagerCreated", 0, example_payload("ManagerCreated"), producer="x")
            for _ in range(3)
        ]
        log.ensure_topics(["managers"])
        copies = [events[0], events[1], events[0], events[2], events[1]]
        log.producer().send([OutgoingMessage("managers", "k", e.to_json()) for e in copies])
        runner = make_runner(engine, log, registry)
        assert runner._consumer is not None
        records = runner._consumer.poll(100, 1.0)
        assert len(records) == 5
        done, failed = runner._apply_batch(records)
        assert (len(done), failed) == (5, None)
        assert effect_count(engine) == 3
        with engine.connect() as conn:
            claimed = conn.execute(sa.select(sa.func.count()).select_from(inbox)).scalar()
        assert claimed == 3

    def test_a_batch_with_a_failing_event_is_applied_and_counted_once(
        self, engine: Engine, log: EmbeddedLog, registry: SchemaRegistry
    ) -> None:
        box = Outbox(registry, producer="exercises")
        ids = stage_managers(engine, box, 8)
        poisoned = ids[5]
        calls: dict[str, int] = {}

        def fails_on_one(envelope: Envelope, conn: Connection) -> None:
            calls[envelope.event_id] = calls.get(envelope.event_id, 0) + 1
            if envelope.event_id == poisoned:
                raise ValueError("cannot apply this one")
            record_effect(envelope, conn)

        applied = metrics.PROCESSED.labels("test", "test.managers", "ManagerCreated", "applied")
        before = applied._value.get()
        OutboxRelay(engine, LogSink(log.producer()), service="test").flush()
        runner = make_runner(engine, log, registry, fails_on_one)
        drain(runner)
        assert effect_count(engine) == 7
        assert applied._value.get() - before == 7  # not again for the batch rolled back
        assert calls[poisoned] == 1 + 1 + 3  # together, one by one, then its retries
        with engine.connect() as conn:
            claimed = set(conn.execute(sa.select(inbox.c.event_id)).scalars())
        assert claimed == set(ids) - {poisoned}

    def test_claiming_several_events_returns_only_those_new(self, engine: Engine) -> None:
        a, b, c = (
            Envelope.new("ManagerCreated", 0, example_payload("ManagerCreated"), producer="x")
            for _ in range(3)
        )
        with engine.begin() as conn:
            assert claim_many(conn, "g", [b]) == {b.event_id}
        with engine.begin() as conn:
            assert claim_many(conn, "g", [a, b, a, c]) == {a.event_id, c.event_id}
            assert claim_many(conn, "other", [b]) == {b.event_id}
            assert claim_many(conn, "g", []) == set()


def service_database(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    metadata.create_all(engine)
    yield engine
    dispose(engine)


def embedded_log(tmp_path: Path) -> EmbeddedLog:
    return EmbeddedLog(tmp_path / "events.db", default_partitions=3, session_timeout_ms=2000)


class TestDeliveryOnSqliteAndEmbeddedLog(DeliveryContract):
    @pytest.fixture
    def engine(self, tmp_path: Path) -> Iterator[Engine]:
        yield from service_database(f"sqlite:///{tmp_path / 'service.db'}")

    @pytest.fixture
    def log(self, tmp_path: Path) -> EmbeddedLog:
        return embedded_log(tmp_path)


@pytest.mark.postgres
class TestDeliveryOnPostgresAndEmbeddedLog(DeliveryContract):
    @pytest.fixture
    def engine(self, postgres_url: str) -> Iterator[Engine]:
        yield from service_database(postgres_url)

    @pytest.fixture
    def log(self, tmp_path: Path) -> EmbeddedLog:
        return embedded_log(tmp_path)
