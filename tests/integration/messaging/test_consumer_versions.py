"""A subscription reads every version of its events up to its handler's, upcasting the older
ones first; a newer version than its handler's goes to the dead-letter topic, saying why."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from event_examples import example_payload
from prometheus_client import REGISTRY
from sqlalchemy import Connection, Engine

from teacher_hiring.events.upcasters import event_upcaster
from teacher_hiring.messaging.consumer import ConsumerRunner, EventHandler, Subscription
from teacher_hiring.messaging.embedded_log import EmbeddedLog
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.tables import metadata
from teacher_hiring.messaging.transport import OutgoingMessage, dlq_topic
from teacher_hiring.messaging.upcasting import Upcaster
from teacher_hiring.runtime.db import dispose, make_engine

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'service.db'}")
    metadata.create_all(engine)
    yield engine
    dispose(engine)


@pytest.fixture
def log(tmp_path: Path) -> EmbeddedLog:
    log = EmbeddedLog(tmp_path / "events.db", default_partitions=1)
    log.ensure_topics(["managers"])
    return log


@pytest.fixture
def with_v2(tmp_path: Path) -> SchemaRegistry:
    """The registry as it would be once a ManagerCreated v2 exists that these consumers predate."""
    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, folder)
    schema = json.loads((folder / "ManagerCreated" / "v1.json").read_text(encoding="utf-8"))
    schema["$id"] = "urn:teacher-hiring:event:ManagerCreated:v2"
    (folder / "ManagerCreated" / "v2.json").write_text(json.dumps(schema), encoding="utf-8")
    return SchemaRegistry.load(folder)


def send(log: EmbeddedLog, *envelopes: Envelope) -> None:
    log.producer().send([OutgoingMessage("managers", "k", e.to_json()) for e in envelopes])


def runner(
    engine: Engine, log: EmbeddedLog, registry: SchemaRegistry, seen: list[Envelope]
) -> ConsumerRunner:
    def handle(envelope: Envelope, _conn: Connection) -> None:
        seen.append(envelope)

    built = ConsumerRunner(
        service="test",
        subscription=Subscription("test.managers", {"ManagerCreated": EventHandler(handle, 1)}),
        transport=log,
        registry=registry,
        engine=engine,
        upcaster=event_upcaster(),
        max_attempts=1,
    )
    built.start()
    return built


def applied(event_version: str) -> float:
    labels = {
        "service": "test",
        "consumer": "test.managers",
        "event_name": "ManagerCreated",
        "event_version": event_version,
    }
    return REGISTRY.get_sample_value("events_applied_by_version_total", labels) or 0.0


def test_both_versions_reach_the_handler_as_the_newest_in_log_order(
    engine: Engine, log: EmbeddedLog
) -> None:
    registry = SchemaRegistry.load()
    old = Envelope.new("ManagerCreated", 0, example_payload("ManagerCreated", 0), producer="e")
    new = Envelope.new("ManagerCreated", 1, example_payload("ManagerCreated", 1), producer="e")
    send(log, old, new, old)
    before = (applied("0"), applied("1"))
    seen: list[Envelope] = []
    consumer = runner(engine, log, registry, seen)
    try:
        while consumer.run_once():
            pass
    finally:
        consumer.close()

    assert [(e.event_id, e.event_version) for e in seen] == [(old.event_id, 1), (new.event_id, 1)]
    assert (seen[0].payload["first_name"], seen[0].payload["last_name"]) == ("Anna", "Petrova")
    assert seen[0].payload["team"] is None
    assert (applied("0"), applied("1")) == (before[0] + 1, before[1] + 1)


def test_a_version_newer_than_the_handler_reads_is_dead_lettered_with_the_reason(
    engine: Engine, log: EmbeddedLog, with_v2: SchemaRegistry
) -> None:
    payload: dict[str, Any] = example_payload("ManagerCreated", 1)
    future = Envelope.new("ManagerCreated", 2, payload, producer="e")
    current = Envelope.new("ManagerCreated", 1, payload, producer="e")
    send(log, future, current)
    seen: list[Envelope] = []
    consumer = runner(engine, log, with_v2, seen)
    try:
        while consumer.run_once():
            pass
    finally:
        consumer.close()

    assert [e.event_id for e in seen] == [current.event_id]
    [dead] = log.read(dlq_topic("managers"), 0, 0, 10)
    assert dead.value == future.to_json()
    assert dead.headers["dlq_reason"] == "invalid"
    assert "ManagerCreated v2 is newer than this consumer reads (v1)" in dead.headers["dlq_error"]


def test_a_consumer_missing_a_step_to_its_handlers_version_refuses_to_start(
    engine: Engine, log: EmbeddedLog
) -> None:
    subscription = Subscription(
        "test.managers", {"ManagerCreated": EventHandler(lambda e, c: None, 1)}
    )
    with pytest.raises(ValueError, match=r"no upcaster for ManagerCreated v0 -> v1"):
        ConsumerRunner(
            service="test",
            subscription=subscription,
            transport=log,
            registry=SchemaRegistry.load(),
            engine=engine,
            upcaster=Upcaster(),
        )
