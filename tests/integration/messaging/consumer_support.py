"""A consumer runner over the embedded log whose handler records each event it applies, for
the tests of how the runner lives through failures around it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from event_examples import example_payload
from sqlalchemy import Connection, Engine

from teacher_hiring.messaging.consumer import ConsumerRunner, EventHandler, Subscription
from teacher_hiring.messaging.embedded_log import EmbeddedLog
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.tables import metadata
from teacher_hiring.runtime.db import dispose, make_engine

applied = sa.Table("applied_events", sa.MetaData(), sa.Column("event_id", sa.String(36)))


def service_database(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    metadata.create_all(engine)
    applied.metadata.create_all(engine)
    yield engine
    dispose(engine)


def embedded_log(tmp_path: Path) -> EmbeddedLog:
    return EmbeddedLog(tmp_path / "events.db", default_partitions=3, session_timeout_ms=2000)


def record(envelope: Envelope, conn: Connection) -> None:
    conn.execute(applied.insert().values(event_id=envelope.event_id))


def applied_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(applied)).scalar_one())


def runner_of(engine: Engine, log: EmbeddedLog, registry: SchemaRegistry) -> ConsumerRunner:
    runner = ConsumerRunner(
        service="test",
        subscription=Subscription("test.managers", {"ManagerCreated": EventHandler(record)}),
        transport=log,
        registry=registry,
        engine=engine,
        max_attempts=3,
        backoff_base_s=0.001,
    )
    runner.start()
    return runner


def stage_managers(engine: Engine, box: Outbox, count: int) -> list[str]:
    ids = []
    with engine.begin() as conn:
        for _ in range(count):
            payload = example_payload("ManagerCreated")
            payload["manager_id"] = str(uuid.uuid4())
            ids.append(box.stage(conn, "ManagerCreated", payload, version=0).event_id)
    return ids
