"""The faults themselves, made from outside the services as the world would make them.

A kill is SIGKILL (nothing gets to clean up) followed by a start on the same settings. A
duplicate is a record already in a topic produced again, same key and bytes, so it arrives
twice and after later records. Poison is appended with a producer, as a broken producer would.
A database outage is a lock or a refusal on the service's own database, for a moment.
"""

from __future__ import annotations

import queue
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from teacher_hiring.chaos.schedule import BROKER, Fault, Kind, Poison
from teacher_hiring.foundation.ids import new_id, new_trace_id
from teacher_hiring.foundation.time import now_rfc3339
from teacher_hiring.messaging.envelope import Envelope, MalformedEvent
from teacher_hiring.messaging.registry import SchemaRegistry, SchemaViolation
from teacher_hiring.messaging.transport import OutgoingMessage, Producer, Transport, TransportError
from teacher_hiring.messaging.wire import RecordCodec, headers_of
from teacher_hiring.runtime.processes import Platform

POISON_KEY = "chaos-poison-"
"""The key of every poison record starts so: how the checks find them in the dead letters."""
CHAOS_HEADER = "chaos"
UNKNOWN_EVENT_NAME = "ChaosEventNobodyKnows"
MAX_DUPLICATES = 3
BROKER_WAIT_S = 180.0
"""How long a fault on records waits for a killed broker to be back before it is skipped."""


class Broker(Protocol):
    def kill(self) -> None: ...
    def start(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SentPoison:
    topic: str
    key: str
    variant: str


@dataclass(frozen=True, slots=True)
class Delivered:
    """A record produced a second time."""

    topic: str
    partition: int
    offset: int
    event_name: str
    event_id: str


@dataclass
class Injected:
    """What was done, for the figures and the checks."""

    counts: Counter[str] = field(default_factory=Counter)
    poison: list[SentPoison] = field(default_factory=list)
    delivered: list[Delivered] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


class Outages:
    """Makes one service's database refuse work for a moment.

    SQLite: a connection holds `BEGIN EXCLUSIVE` on the file, so every writer waits (the
    services' busy timeout is far longer than the outage). PostgreSQL: the database stops
    admitting connections and the services' sessions in it are ended, so requests, relays and
    consumers in flight fail and reconnect; then it admits them again. Only that database is
    touched: other databases of the server (other platforms, other tests) see nothing.
    """

    def __init__(self, database_urls: Mapping[str, str]) -> None:
        self.urls = dict(database_urls)
        self._admins: dict[str, sa.Engine] = {}

    def hold(self, service: str, seconds: float) -> None:
        url = make_url(self.urls[service])
        if url.get_backend_name() == "sqlite":
            self._lock_file(str(url.database), seconds)
        else:
            self._refuse_connections(url, seconds)

    def _lock_file(self, path: str, seconds: float) -> None:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN EXCLUSIVE")
            time.sleep(seconds)
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    def _refuse_connections(self, url: sa.URL, seconds: float) -> None:
        database = str(url.database)
        admin = self._admin(url)
        quoted = '"' + database.replace('"', '""') + '"'
        with admin.connect() as conn:
            conn.exec_driver_sql(f"ALTER DATABASE {quoted} ALLOW_CONNECTIONS false")
            try:
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid() "
                        "AND backend_type = 'client backend' AND usename = current_user"
                    ),
                    {"name": database},
                )
                time.sleep(seconds)
            finally:
                conn.exec_driver_sql(f"ALTER DATABASE {quoted} ALLOW_CONNECTIONS true")

    def _admin(self, url: sa.URL) -> sa.Engine:
        key = url.render_as_string(hide_password=False)
        if key not in self._admins:
            self._admins[key] = sa.create_engine(
                url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
            )
        return self._admins[key]

    def close(self) -> None:
        """Every database admits connections again (after an interrupted outage too)."""
        for text in self.urls.values():
            url = make_url(text)
            if url.get_backend_name() == "sqlite":
                continue
            quoted = '"' + str(url.database).replace('"', '""') + '"'
            with self._admin(url).connect() as conn:
                conn.exec_driver_sql(f"ALTER DATABASE {quoted} ALLOW_CONNECTIONS true")
        for engine in self._admins.values():
            engine.dispose()


class Injector:
    """Applies the faults of a schedule to a running platform."""

    def __init__(
        self,
        platform: Platform,
        transport: Transport,
        registry: SchemaRegistry,
        outages: Outages,
        broker: Broker | None = None,
    ) -> None:
        self.platform = platform
        self.transport = transport
        self.registry = registry
        self._codec = RecordCodec(registry)
        self.outages = outages
        self.broker = broker
        self.injected = Injected()
        # Made now: a Kafka producer first has to be given its id by the broker (idempotence),
        # which it does in the background while the users get going.
        self._producer: Producer | None = transport.producer()
        self._broker_back = threading.Event()
        self._broker_back.set()
        self._restarts: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._lanes = {name: _Lane(name) for name in ("records", "databases")}

    @property
    def broker_up(self) -> bool:
        return self._broker_back.is_set()

    def apply(self, fault: Fault) -> None:
        """Make the fault, or have it made: records go through the log and a database outage
        lasts a while, so each of those has a lane of its own and the schedule keeps its
        time. A fault on records while the broker is away waits in its lane for the broker,
        and is made late; one that finds its lane full is counted as skipped, never as
        injected."""
        if fault.kind is Kind.KILL:
            self._guarded(self._kill, fault)
            return
        lane = self._lanes["records" if fault.kind is not Kind.OUTAGE else "databases"]
        if not lane.submit(lambda: self._guarded(self._make, fault)):
            self._count(f"skipped:{fault.kind.value}", fault, "too many still waiting")

    def _make(self, fault: Fault) -> None:
        if fault.kind in (Kind.DUPLICATE, Kind.POISON):
            self.wait_for_broker(BROKER_WAIT_S)
        if fault.kind is Kind.DUPLICATE:
            self._deliver_again(fault)
        elif fault.kind is Kind.POISON:
            self._poison(fault)
        else:
            self.outages.hold(fault.target, fault.duration_s)
            self._count(f"outage:{fault.target}", fault)

    def _guarded(self, make: Callable[[Fault], None], fault: Fault) -> None:
        try:
            make(fault)
        except (TransportError, TimeoutError, sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
            self._count(f"skipped:{fault.kind.value}", fault, str(exc).splitlines()[0][:120])

    def _count(self, key: str, fault: Fault, note: str = "", *, detail: str = "") -> None:
        line = fault.describe() + (f": {detail}" if detail else "")
        with self._lock:
            self.injected.counts[key] += 1
            self.injected.log.append(line + (f" (skipped: {note})" if note else ""))

    # -- kills -----------------------------------------------------------------------------------

    def _kill(self, fault: Fault) -> None:
        if fault.target != BROKER:
            self.platform.restart(fault.target, crash=True)
            self._count(f"killed:{fault.target}", fault)
            return
        if self.broker is None:
            raise ValueError("a broker kill was scheduled, but this deployment has no broker")
        if not self.broker_up:
            self._count("skipped:kill", fault, "the broker is still starting")
            return
        self.broker.kill()
        self._count(f"killed:{BROKER}", fault)
        self._broker_back.clear()
        restart = threading.Thread(target=self._start_broker, name="broker-restart", daemon=True)
        self._restarts.append(restart)
        restart.start()

    def _start_broker(self) -> None:
        assert self.broker is not None
        try:
            self.broker.start()
        finally:
            self._broker_back.set()

    def wait_for_broker(self, timeout_s: float) -> None:
        if not self._broker_back.wait(timeout_s):
            raise TimeoutError(f"the broker was not back after {timeout_s:.0f}s")

    # -- records ---------------------------------------------------------------------------------

    def _send(self, message: OutgoingMessage) -> None:
        if self._producer is None:
            self._producer = self.transport.producer()
        self._producer.send([message])

    def _deliver_again(self, fault: Fault) -> None:
        """Up to three consecutive records from a random place of the topic, produced again
        with their key and bytes: each arrives twice, and after the records that followed it."""
        rng = random.Random(fault.seed)
        starts, ends = (
            self.transport.start_offsets(fault.target),
            self.transport.end_offsets(fault.target),
        )
        filled = sorted(p for p, end in ends.items() if end > starts.get(p, 0))
        if not filled:
            self._count("skipped:duplicate", fault, "the topic is still empty")
            return
        partition = rng.choice(filled)
        offset = rng.randrange(starts.get(partition, 0), ends[partition])
        records = self.transport.read(
            fault.target, partition, offset, rng.randint(1, MAX_DUPLICATES)
        )
        for record in records:
            if record.key.startswith(POISON_KEY):
                continue  # a poison record delivered again would be one more dead letter
            try:
                envelope = self._codec.decode(record.value, record.headers)
            except (MalformedEvent, SchemaViolation):
                continue
            headers = {**record.headers, CHAOS_HEADER: f"again:{record.partition}:{record.offset}"}
            self._send(OutgoingMessage(record.topic, record.key, record.value, headers))
            with self._lock:
                self.injected.delivered.append(
                    Delivered(
                        record.topic,
                        record.partition,
                        record.offset,
                        envelope.event_name,
                        envelope.event_id,
                    )
                )
            detail = f"{envelope.event_name} at {record.partition}:{record.offset}"
            self._count(f"duplicate:{record.topic}", fault, detail=detail)

    def _poison(self, fault: Fault) -> None:
        key = f"{POISON_KEY}{len(self.injected.poison) + 1}"
        value, headers = poison_record(Poison(fault.variant), fault.target, self.registry)
        headers[CHAOS_HEADER] = fault.variant
        self._send(OutgoingMessage(fault.target, key, value, headers))
        with self._lock:
            self.injected.poison.append(SentPoison(fault.target, key, fault.variant))
        self._count(f"poison:{fault.variant}", fault)

    def finish(self, timeout_s: float = 120.0) -> None:
        """Wait for the faults still being made, and for the broker to be back."""
        for lane in self._lanes.values():
            lane.join(timeout_s)
        for restart in self._restarts:
            restart.join(timeout_s)

    def close(self, timeout_s: float = 120.0) -> None:
        self.finish(timeout_s)
        if self._producer is not None:
            self._producer.close()
            self._producer = None
        self.outages.close()


class _Lane:
    """Faults made one after the other on a thread of its own, a few waiting at most: one that
    finds the lane full is skipped (the log or the database is too slow to keep up)."""

    def __init__(self, name: str, waiting: int = 3) -> None:
        self._work: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=waiting)
        self._thread = threading.Thread(target=self._run, name=f"chaos-{name}", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[], None]) -> bool:
        try:
            self._work.put_nowait(work)
        except queue.Full:
            return False
        return True

    def _run(self) -> None:
        while (work := self._work.get()) is not None:
            work()

    def join(self, timeout_s: float) -> None:
        """Make what is waiting, then stop."""
        if self._thread.is_alive():
            self._work.put(None, timeout=timeout_s)
            self._thread.join(timeout_s)


def poison_record(
    variant: Poison, topic: str, registry: SchemaRegistry
) -> tuple[bytes, dict[str, str]]:
    """A record of the topic (body and headers, as messaging.wire lays events out) that no
    consumer may apply, of the given kind."""
    spec = sorted(registry.events_on_topic(topic), key=lambda s: s.name)[0]
    name, version = spec.name, spec.latest_version
    if variant is Poison.UNKNOWN_EVENT:
        name, version = UNKNOWN_EVENT_NAME, 0
    elif variant is Poison.UNKNOWN_VERSION:
        version = spec.latest_version + 100
    envelope = Envelope(
        event_id=new_id(),
        event_version=version,
        event_name=name,
        produced_at=now_rfc3339(),
        producer="chaos",
        trace_id=new_trace_id(),
        payload={"chaos": True},
    )
    headers = headers_of(envelope)
    if variant is Poison.INVALID_JSON:
        return b'{"chaos": ', headers
    fields = registry.body_fields(spec.name, spec.latest_version)
    whole = envelope.as_dict()
    body = envelope.payload if fields is None else {field: whole[field] for field in fields}
    return orjson.dumps(body), headers


def consumers_of(topic: str, registry: SchemaRegistry) -> frozenset[str]:
    """The services with a consumer group on the topic: each dead-letters its poison."""
    return frozenset(c for spec in registry.events_on_topic(topic) for c in spec.consumers)
