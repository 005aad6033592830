"""The dead-letter tools on each transport (embedded log, Kafka) and each database (SQLite,
PostgreSQL), with the real consumer runner dead-lettering what it cannot apply.

The handler of these tests stands for a service's: it records an effect, and refuses the
managers of `broken` as a handler whose dependency is failing would.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from event_examples import example_payload
from prometheus_client import REGISTRY
from sqlalchemy import Connection, Engine

from integration.kafka_broker import running_broker
from teacher_hiring.messaging import dead_letter_replays as replays
from teacher_hiring.messaging.consumer import ConsumerRunner, EventHandler, Subscription
from teacher_hiring.messaging.dead_letter_replays import dead_letter_replays
from teacher_hiring.messaging.dead_letter_replays import metadata as replays_metadata
from teacher_hiring.messaging.dead_letter_rules import (
    BadRequest,
    DeadLetterNotFound,
    Order,
    Outcome,
    PurgeRefused,
    Status,
    UnknownGroup,
    UnknownTopic,
)
from teacher_hiring.messaging.dead_letters import DeadLetters
from teacher_hiring.messaging.embedded_log import EmbeddedLog
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.kafka import KafkaTransport
from teacher_hiring.messaging.prefixed import PrefixedTransport
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.tables import metadata as messaging_metadata
from teacher_hiring.messaging.transport import OutgoingMessage, Transport, dlq_topic
from teacher_hiring.runtime.db import dispose, make_engine

pytestmark = pytest.mark.integration

TOPIC = "managers"
GROUP = "test.managers"
DEADLINE_S = 60.0  # Kafka's first group join takes seconds on a busy machine

effects = sa.Table(
    "dead_letter_test_effects",
    sa.MetaData(),
    sa.Column("event_id", sa.String(36)),
    sa.Column("manager_id", sa.String(100)),
)


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    with running_broker() as bootstrap:
        yield bootstrap


def backends(*pairs: tuple[str, str]) -> pytest.MarkDecorator:
    """Run a test on these (transport, database) pairs."""
    marks = {"kafka": pytest.mark.kafka, "postgres": pytest.mark.postgres}
    params = [
        pytest.param(
            transport, database, marks=[marks[n] for n in (transport, database) if n in marks]
        )
        for transport, database in pairs
    ]
    return pytest.mark.parametrize(("transport_name", "database_name"), params)


EVERY_PAIR = backends(
    ("embedded", "sqlite"), ("embedded", "postgres"), ("kafka", "sqlite"), ("kafka", "postgres")
)
BOTH_OF_EACH = backends(("embedded", "sqlite"), ("kafka", "postgres"))
BOTH_DATABASES = backends(("embedded", "sqlite"), ("embedded", "postgres"))
EACH_DATABASE = pytest.mark.parametrize(
    "database_name", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)


@pytest.fixture
def transport(
    request: pytest.FixtureRequest, transport_name: str, tmp_path: Path
) -> Iterator[Transport]:
    """Fresh topics of 3 partitions: a new log file, or a prefix of its own on the broker."""
    if transport_name == "embedded":
        made: Transport = EmbeddedLog(tmp_path / "events.db", default_partitions=3)
    else:
        kafka = KafkaTransport(request.getfixturevalue("kafka_bootstrap"), default_partitions=3)
        made = PrefixedTransport(kafka, f"dlq-{uuid.uuid4().hex[:10]}.")
    made.ensure_topics([TOPIC])
    yield made
    made.close()


@pytest.fixture
def engine(request: pytest.FixtureRequest, database_name: str, tmp_path: Path) -> Iterator[Engine]:
    if database_name == "sqlite":
        url = f"sqlite:///{tmp_path / 'service.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    for metadata in (messaging_metadata, replays_metadata, effects.metadata):
        metadata.create_all(engine)
    yield engine
    dispose(engine)


class Service:
    """One consumer group of a made-up service, its dead-letter tools and its effects."""

    def __init__(
        self, transport: Transport, engine: Engine, registry: SchemaRegistry, name: str = "test"
    ) -> None:
        self.broken: set[str] = set()
        self.transport, self.engine = transport, engine
        self.runner = ConsumerRunner(
            service=name,
            subscription=Subscription(
                f"{name}.managers", {"ManagerCreated": EventHandler(self._handle)}
            ),
            transport=transport,
            registry=registry,
            engine=engine,
            max_attempts=3,
            backoff_base_s=0.001,
        )
        self.runner.start()
        self.tools = DeadLetters(name, transport, engine, registry, [self.runner])

    def _handle(self, envelope: Envelope, conn: Connection) -> None:
        manager_id = envelope.payload["manager_id"]
        if manager_id in self.broken:
            raise RuntimeError(f"the directory of {manager_id} does not answer")
        conn.execute(effects.insert().values(event_id=envelope.event_id, manager_id=manager_id))

    def effects(self) -> list[str]:
        with self.engine.connect() as conn:
            return sorted(conn.execute(sa.select(effects.c.manager_id)).scalars())

    def consume_until(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while not done():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            self.runner.run_once()

    def dead_letters(self) -> int:
        return self.tools.listing(limit=500).total

    def close(self) -> None:
        self.runner.close()


@pytest.fixture
def service(transport: Transport, engine: Engine, registry: SchemaRegistry) -> Iterator[Service]:
    made = Service(transport, engine, registry)
    yield made
    made.close()


def manager(manager_id: str) -> Envelope:
    payload = {**example_payload("ManagerCreated"), "manager_id": manager_id}
    return Envelope.new("ManagerCreated", 0, payload, producer="exercises")


def send(transport: Transport, *values: bytes, key: str = "k") -> None:
    transport.producer().send([OutgoingMessage(TOPIC, key, value) for value in values])


def published(transport: Transport) -> int:
    return sum(transport.end_offsets(TOPIC).values())


def gauge(service: str = "test") -> float | None:
    return REGISTRY.get_sample_value("dead_letters_pending", {"service": service, "topic": TOPIC})


@EVERY_PAIR
def test_dead_letters_are_listed_shown_replayed_once_and_purged(
    service: Service, transport: Transport
) -> None:
    service.broken.add("m-broken")
    failing = manager("m-broken")
    poison = b'{"event_id": "not even closed'
    # One key: one partition, so the dead letters' offsets are 0 (failing) and 1 (poison).
    send(transport, failing.to_json(), manager("m-1").to_json(), poison, manager("m-2").to_json())
    service.consume_until(lambda: service.effects() == ["m-1", "m-2"], "the good events")
    service.consume_until(lambda: service.dead_letters() == 2, "two dead letters")
    tools = service.tools

    page = tools.listing(order=Order.OFFSET)
    first, second = page.items
    partition = first.letter.partition
    assert (first.letter.id, second.letter.id) == (f"{partition}:0", f"{partition}:1")
    assert (first.letter.reason, second.letter.reason) == ("failed", "invalid")
    assert page.by_topic == {TOPIC: {"dead_letters": 2, "pending": 2, "other_services": 0}}
    assert [t.letter.id for t in tools.listing(order=Order.NEWEST).items] == [
        second.letter.id,
        first.letter.id,
    ]
    assert [t.letter.id for t in tools.listing(order=Order.OFFSET, limit=1, skip=1).items] == [
        second.letter.id
    ]
    assert tools.listing(group="test.managers", status=Status.PENDING).total == 2
    assert gauge() == 2

    shown = tools.get(TOPIC, first.letter.id)
    assert shown.letter.envelope == failing
    assert shown.letter.consumer == GROUP and shown.letter.attempts == 3
    assert "the directory of m-broken does not answer" in shown.letter.error
    raw = tools.get(TOPIC, second.letter.id).letter
    assert raw.envelope is None and raw.value == poison and "not valid JSON" in raw.error

    # Dry run: says what would happen, publishes nothing.
    before = published(transport)
    dry = tools.replay(topic=TOPIC)
    assert [(d.tracked.letter.id, d.outcome) for d in dry.decisions] == [
        (first.letter.id, Outcome.WOULD_APPLY),
        (second.letter.id, Outcome.STILL_INVALID),
    ]
    assert "not valid JSON" in dry.decisions[1].detail
    assert published(transport) == before

    # Replayed while its cause lasts: it fails again and comes back as a new dead letter.
    assert tools.replay(topic=TOPIC, dry_run=False).published == 1
    assert published(transport) == before + 1
    service.consume_until(lambda: service.dead_letters() == 3, "the replay to fail again")
    again = tools.listing(order=Order.OFFSET).items[2]
    assert again.letter.event_id == failing.event_id
    assert again.letter.headers["replayed_from"] == f"{dlq_topic(TOPIC)}:{first.letter.id}"
    assert tools.get(TOPIC, first.letter.id).status is Status.REPLAYED

    # The cause is gone: the replay applies it, once, however often it is asked.
    service.broken.clear()
    outcomes = {d.tracked.letter.id: d.outcome for d in tools.replay(topic=TOPIC).decisions}
    assert outcomes == {
        first.letter.id: Outcome.ALREADY_REPLAYED,
        second.letter.id: Outcome.STILL_INVALID,
        again.letter.id: Outcome.WOULD_APPLY,
    }
    assert tools.replay(topic=TOPIC, ids=[again.letter.id], dry_run=False).published == 1
    assert tools.replay(topic=TOPIC, dry_run=False).published == 0
    service.consume_until(lambda: "m-broken" in service.effects(), "the replayed event")
    send(transport, manager("m-3").to_json())  # consumed after anything the replays sent
    service.consume_until(lambda: "m-3" in service.effects(), "a later event")
    assert service.effects() == ["m-1", "m-2", "m-3", "m-broken"]
    assert tools.get(TOPIC, again.letter.id).status is Status.APPLIED
    assert tools.refresh_gauge() == {TOPIC: 1} and gauge() == 1

    # Purge: what was handled goes without force; the poison needs it.
    assert tools.purge(TOPIC, up_to=first.letter.id).purged == 1
    with pytest.raises(PurgeRefused, match=rf"force: 1 dead letters .*{second.letter.id}"):
        tools.purge(TOPIC)
    assert tools.listing().total == 2
    report = tools.purge(TOPIC, force=True)
    assert (report.purged, report.forced) == (2, True)
    assert report.starts[partition] == 3
    assert tools.listing().total == 0 and gauge() == 0
    assert _replay_marks(service.engine) == []  # forgotten with their dead letters
    with pytest.raises(DeadLetterNotFound, match="purged, or never written"):
        tools.get(TOPIC, first.letter.id)


@BOTH_OF_EACH
def test_a_malformed_event_on_the_wire_is_dead_lettered_with_its_reason_and_the_consumer_goes_on(
    service: Service, transport: Transport
) -> None:
    good = manager("m-0")
    malformed = {
        b"{not json": "not valid JSON",
        b"[1, 2]": "JSON object",
        orjson.dumps({**good.as_dict(), "event_name": "NoSuchEvent"}): "NoSuchEvent",
        orjson.dumps({**good.as_dict(), "event_version": 7}): "v7",
        orjson.dumps({**good.as_dict(), "payload": {**good.payload, "email": 42}}): "email",
    }
    values: list[bytes] = []
    for n, bad in enumerate(malformed):
        values += [bad, manager(f"m-{n}").to_json()]
    send(transport, *values)
    service.consume_until(lambda: len(service.effects()) == len(malformed), "every good event")
    service.consume_until(lambda: service.dead_letters() == len(malformed), "the dead letters")
    assert service.effects() == sorted(f"m-{n}" for n in range(len(malformed)))
    letters = [t.letter for t in service.tools.listing(order=Order.OFFSET).items]
    assert [letter.value for letter in letters] == list(malformed)
    for letter, why in zip(letters, malformed.values(), strict=True):
        assert (letter.reason, letter.attempts) == ("invalid", 0)
        assert why in letter.error
        assert letter.headers["original_topic"] == TOPIC
    decisions = service.tools.replay(topic=TOPIC).decisions
    assert {d.outcome for d in decisions} == {Outcome.STILL_INVALID}


@BOTH_OF_EACH
def test_refusals_name_the_field(service: Service, transport: Transport) -> None:
    send(transport, b"poison")
    service.consume_until(lambda: service.dead_letters() == 1, "the dead letter")
    tools = service.tools
    dead = tools.listing().items[0].letter
    with pytest.raises(UnknownTopic, match=r"^topic: 'nope' is not a topic test consumes"):
        tools.listing(topic="nope")
    with pytest.raises(UnknownGroup, match=r"^group: 'x' is not a consumer group of test"):
        tools.replay(group="x")
    with pytest.raises(BadRequest, match=r"^dead_letter_id: '1-2' is not <partition>:<offset>"):
        tools.get(TOPIC, "1-2")
    with pytest.raises(BadRequest, match=r"^dead_letter_id: partition 9 does not exist"):
        tools.get(TOPIC, "9:0")
    with pytest.raises(
        DeadLetterNotFound, match=rf"^dead_letter_id: .* no dead letter {dead.partition}:5"
    ):
        tools.get(TOPIC, f"{dead.partition}:5")
    with pytest.raises(BadRequest, match=r"^topic: required when ids are given"):
        tools.replay(ids=["0:0"])
    with pytest.raises(BadRequest, match=r"^up_to: offset 1 is past the last dead letter"):
        tools.purge(TOPIC, up_to=f"{dead.partition}:1")
    assert tools.listing().total == 1  # nothing was dropped


@BOTH_DATABASES
def test_two_replays_at_once_publish_a_dead_letter_once(
    service: Service, transport: Transport
) -> None:
    service.broken.add("m-x")
    send(transport, manager("m-x").to_json())
    service.consume_until(lambda: service.dead_letters() == 1, "the dead letter")
    before = published(transport)
    start = threading.Barrier(4)
    counts: list[int] = []

    def replay() -> None:
        start.wait()
        counts.append(service.tools.replay(topic=TOPIC, dry_run=False).published)

    threads = [threading.Thread(target=replay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_S)
    assert sorted(counts) == [0, 0, 0, 1]
    assert published(transport) == before + 1


@BOTH_OF_EACH
def test_a_topic_two_services_read_is_purged_only_with_force_while_the_other_has_some(
    transport: Transport, engine: Engine, registry: SchemaRegistry, tmp_path: Path
) -> None:
    ours, theirs = Service(transport, engine, registry, "ours"), None
    other = make_engine(f"sqlite:///{tmp_path / 'theirs.db'}")
    try:
        for metadata in (messaging_metadata, replays_metadata, effects.metadata):
            metadata.create_all(other)
        theirs = Service(transport, other, registry, "theirs")
        theirs.broken.add("m-only-theirs")
        send(transport, manager("m-only-theirs").to_json())
        theirs.consume_until(lambda: theirs.dead_letters() == 1, "their dead letter")
        ours.consume_until(lambda: ours.effects() == ["m-only-theirs"], "our copy")
        page = ours.tools.listing()
        assert page.total == 0
        assert page.by_topic[TOPIC] == {"dead_letters": 0, "pending": 0, "other_services": 1}
        dead = theirs.tools.listing().items[0].letter
        with pytest.raises(DeadLetterNotFound, match=r"theirs\.managers's, not a group of ours"):
            ours.tools.get(TOPIC, dead.id)
        with pytest.raises(PurgeRefused, match="another service's dead letter"):
            ours.tools.purge(TOPIC)
        assert ours.tools.purge(TOPIC, force=True).purged == 1
        assert theirs.dead_letters() == 0
    finally:
        ours.close()
        if theirs is not None:
            theirs.close()
        dispose(other)


def _replay_marks(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(dead_letter_replays)))


@BOTH_DATABASES
def test_marks_of_dead_letters_that_retention_removed_are_forgotten(
    service: Service, transport: Transport
) -> None:
    service.broken.add("m-x")
    send(transport, manager("m-x").to_json())
    service.consume_until(lambda: service.dead_letters() == 1, "the dead letter")
    assert service.tools.replay(topic=TOPIC, dry_run=False).published == 1
    assert len(_replay_marks(service.engine)) == 1
    assert isinstance(transport, EmbeddedLog)
    transport.enforce_retention(now_ms=int(time.time() * 1000) + transport.retention_ms + 1)
    assert service.tools.refresh_gauge() == {TOPIC: 0}
    assert _replay_marks(service.engine) == []


@EACH_DATABASE
def test_a_replay_mark_never_applies_to_another_record_at_the_same_place(engine: Engine) -> None:
    first = replays.Place(TOPIC, 0, 4, "digest-of-the-first")
    second = replays.Place(TOPIC, 0, 4, "digest-of-a-record-a-new-topic-put-there")
    with engine.begin() as conn:
        assert replays.claim(conn, [replays.Claim(first, GROUP, None)]) != []
        assert replays.claim(conn, [replays.Claim(first, GROUP, None)]) == []
    with engine.connect() as conn:
        assert replays.replayed_at(conn, [second]) == {}
        assert first in replays.replayed_at(conn, [first])
    with engine.begin() as conn:
        assert replays.claim(conn, [replays.Claim(second, GROUP, "e-1")]) != []
    with engine.connect() as conn:
        assert list(replays.replayed_at(conn, [first, second])) == [second]
        assert replays.any_below(conn, TOPIC, {0: 5, 1: 0})
        assert not replays.any_below(conn, TOPIC, {0: 4})
