"""The relay: moves committed outbox rows to their sink and marks them sent.

Rows are read in id order, so events with the same key leave in the order they were committed
(on PostgreSQL, Outbox.stage makes id order and commit order agree per key). A crash between
delivering and marking re-delivers rows; receivers' inboxes absorb that. A sink that fails is
backed off on its own, so one unreachable receiver never holds up the rest.

Several relays on one database (several instances of a service on PostgreSQL) take turns, one
batch at a time: each pass opens a transaction and tries a transaction-scoped advisory lock;
the relay that gets it reads the oldest unsent rows, delivers them, marks them sent and
commits, which releases the lock for the next pass of any relay; the others skip their pass.
Two relays never hold the same rows, so none is sent twice by design, and batches follow one
another in id order, so per-key order holds across relays. (Locking rows with SKIP LOCKED
instead would let relay B send rows 501-1000 while relay A is still sending 1-500.) A relay
that dies mid-batch loses its session, so its lock goes at once and its rows, never marked,
go with the next batch of another relay. On SQLite, one relay per database file reads a
snapshot and marks in a short write transaction, never holding the single writer lock while
it delivers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
import structlog
from sqlalchemy import Connection, Engine

from teacher_hiring.foundation.sql import is_sqlite, read_only
from teacher_hiring.messaging import metrics
from teacher_hiring.messaging.sinks import LogSink, OutboxRow, Sink
from teacher_hiring.messaging.tables import outbox

log = structlog.get_logger(__name__)

Router = Callable[[str], Sink | None]
"""Maps an event name to a sink other than the log, or None for the log."""
Deferred = Callable[[], Mapping[str, float]]
"""Event names that the staging request delivers itself, each with how many seconds after
staging the relay leaves a row to it (runtime.links: a link called inside the request)."""

RELAY_LOCK = 0x7468_7265_6C61_7900  # "threlay": the advisory lock of a relay's turn
_TAKE_TURN = sa.text("SELECT pg_try_advisory_xact_lock(CAST(:key AS bigint))")
_UNSENT = (
    sa.select(
        outbox.c.id,
        outbox.c.event_id,
        outbox.c.event_name,
        outbox.c.topic,
        outbox.c.partition_key,
        outbox.c.body,
        outbox.c.trace_id,
    )
    .where(outbox.c.sent_at.is_(None))
    .order_by(outbox.c.id)
    .limit(sa.bindparam("batch_size"))
)
_MARK_SENT = (
    outbox.update()
    .where(outbox.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(sent_at=sa.bindparam("now"))
)
"""Built once: the relay runs them on every pass, which under load is every few ms."""


@dataclass
class _Backoff:
    failures: int = 0
    until: float = 0.0
    event_names: set[str] = field(default_factory=set)

    def fail(self, base_s: float, max_s: float) -> None:
        self.failures += 1
        self.until = time.monotonic() + min(max_s, base_s * 2 ** (self.failures - 1))

    def active(self) -> bool:
        return time.monotonic() < self.until


@dataclass
class OutboxRelay:
    engine: Engine
    log_sink: LogSink
    service: str
    route: Router = lambda _name: None
    deferred: Deferred = lambda: {}
    batch_size: int = 500
    backoff_base_s: float = 0.05
    backoff_max_s: float = 5.0
    linger_s: float = 0.005
    _backoffs: dict[str, _Backoff] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Event = field(default_factory=threading.Event)

    def run_once(self) -> int:
        """Relay one batch; returns how many rows were marked sent (0 if not this relay's turn)."""
        return self.take_turn() or 0

    def take_turn(self) -> int | None:
        """Relay one batch; how many rows were marked sent, or None if another relay of the
        service was relaying one: then rows committed before this call may still be on
        their way, in that relay's batch."""
        with self._lock:
            held_back = self._held_back()
            if is_sqlite(self.engine):
                with read_only(self.engine) as conn:
                    rows = self._unsent(conn, held_back)
                delivered = self._deliver(rows)
                if delivered:
                    with self.engine.begin() as conn:
                        self._mark_sent(conn, delivered)
                return len(delivered)
            with self.engine.begin() as conn:
                if not conn.execute(_TAKE_TURN, {"key": RELAY_LOCK}).scalar_one():
                    return None  # another relay of this service is relaying a batch
                delivered = self._deliver(self._unsent(conn, held_back))
                self._mark_sent(conn, delivered)
            return len(delivered)

    def _deliver(self, rows: list[OutboxRow]) -> list[int]:
        """Hand the rows to their sinks; the ids of those delivered."""
        delivered: list[int] = []
        for sink, sink_rows in self._by_sink(rows):
            backoff = self._backoffs.setdefault(sink.name, _Backoff())
            if backoff.active():
                continue
            try:
                sink.deliver(sink_rows)
            except Exception as exc:
                backoff.fail(self.backoff_base_s, self.backoff_max_s)
                backoff.event_names = {row.event_name for row in sink_rows}
                metrics.RELAY_FAILURES.labels(self.service, sink.name).inc()
                log.warning("relay.sink_failed", sink=sink.name, error=str(exc))
                continue
            backoff.failures = 0
            metrics.RELAYED.labels(self.service, sink.name).inc(len(sink_rows))
            delivered.extend(row.id for row in sink_rows)
        return delivered

    def flush(self, timeout_s: float = 1.0) -> bool:
        """Relay until nothing is pending or the time is up; True if the outbox is empty."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.run_once() == 0 and self.backlog() == 0:
                return True
        return self.backlog() == 0

    def backlog(self) -> int:
        with read_only(self.engine) as conn:
            count = conn.execute(
                sa.select(sa.func.count()).where(outbox.c.sent_at.is_(None))
            ).scalar_one()
        metrics.OUTBOX_BACKLOG.labels(self.service).set(count)
        return int(count)

    def wake(self) -> None:
        """Something was committed to the outbox: relay it now rather than at the next tick."""
        self._wake.set()

    def run(self, stop: threading.Event, idle_sleep_s: float = 0.05) -> None:
        """Relay until stopped; idle, it waits for a wake-up or `idle_sleep_s`, whichever is first.

        The idle tick catches rows committed by other processes (and any missed wake-up).
        """
        while not stop.is_set():
            try:
                moved = self.run_once()
            except Exception:
                log.exception("relay.failed")
                moved = 0
            if moved >= self.batch_size:
                continue  # a backlog: the next batch at once
            # Otherwise what was committed meanwhile woke it: one pass per linger, not two (a
            # pass straight after a partial batch found next to nothing, at a full pass's cost).
            if self._wake.wait(idle_sleep_s):
                # The hook fires just before COMMIT; lingering a moment lets the row become
                # visible and gathers the commits of concurrent requests into one batch.
                time.sleep(self.linger_s)
                self._wake.clear()

    def _held_back(self) -> set[str]:
        """Event names of sinks in back-off, left out of the next read so others keep moving."""
        names: set[str] = set()
        for backoff in self._backoffs.values():
            if backoff.active():
                names |= backoff.event_names
        return names

    def _unsent(self, conn: Connection, held_back: set[str]) -> list[OutboxRow]:
        query = _UNSENT
        if held_back:
            query = query.where(outbox.c.event_name.not_in(sorted(held_back)))
        now = time.time()
        for event_name, window_s in sorted(self.deferred().items()):
            # Young rows are their request's to deliver; older ones it failed to, so they go now.
            young = sa.and_(outbox.c.event_name == event_name, outbox.c.created_at > now - window_s)
            query = query.where(sa.not_(young))
        return [OutboxRow(*row) for row in conn.execute(query, {"batch_size": self.batch_size})]

    def _by_sink(self, rows: list[OutboxRow]) -> list[tuple[Sink, list[OutboxRow]]]:
        groups: dict[str, tuple[Sink, list[OutboxRow]]] = {}
        for row in rows:
            sink = self.route(row.event_name) or self.log_sink
            groups.setdefault(sink.name, (sink, []))[1].append(row)
        return list(groups.values())

    def _mark_sent(self, conn: Connection, ids: list[int]) -> None:
        now = time.time()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            conn.execute(_MARK_SENT, {"ids": chunk, "now": now})

    def purge_sent(self, older_than_s: float) -> int:
        """Forget rows sent long ago (kept meanwhile for reconciliation)."""
        cutoff = time.time() - older_than_s
        with self.engine.begin() as conn:
            result = conn.execute(
                outbox.delete().where(outbox.c.sent_at.is_not(None), outbox.c.sent_at < cutoff)
            )
        return int(result.rowcount)
