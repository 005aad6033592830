"""The transactional outbox: an event is committed with the state change that caused it.

Handlers call `Outbox.stage` on the connection of their unit of work; the relay publishes the
row later. No code path writes state and publishes in two separate steps.

Per-key order on PostgreSQL: the relay sends rows in id order, but ids come from a sequence
when a row is inserted, not when it commits, and concurrent transactions commit in any order.
Two events of one key could then become visible highest id first, and leave in that order.
So staging first takes a transaction-scoped advisory lock on the event's partition key: a
second transaction with an event of the same key waits there until the first has committed,
and only then draws its (higher) id. Events of different keys never wait for each other.
SQLite needs none of this: its writers take turns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, event, text

from teacher_hiring.foundation.sql import bound_insert
from teacher_hiring.foundation.time import Clock, rfc3339, system_clock
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.tables import outbox
from teacher_hiring.messaging.tracing import current_trace_id

STAGED = "outbox_staged"
Keeper = Callable[[Connection, Envelope, bytes], None]
"""Keeps a record of an event just staged, in the same transaction: a service that issues
money keeps its money events for reconciliation (teacher_hiring.money.issued.keep). It is
given the envelope's JSON as the outbox stored it, encoded once for both."""
KEY_LOCKS = 0x7468_6F62  # "thob": the advisory lock space (first int4) of partition keys
_LOCK_KEY = text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), hashtext(:key))")
_INSERT = bound_insert(
    outbox,
    (
        "event_id",
        "event_name",
        "event_version",
        "topic",
        "partition_key",
        "body",
        "trace_id",
        "created_at",
    ),
)
"""Built once, values bound per row: a statement built per call spends more in SQLAlchemy's
cache-key walk than SQLite spends writing the row."""


def wake_relay_on_commit(engine: Engine, wake: Callable[[], None]) -> None:
    """Call `wake` after each transaction that staged an event, so the relay need not poll fast.

    SQLAlchemy's commit hook runs just before the COMMIT; the relay retries briefly when woken
    (see OutboxRelay.run), which covers the moment until the row is visible.
    """

    def on_commit(conn: Connection) -> None:
        if conn.info.pop(STAGED, False):
            wake()

    def on_rollback(conn: Connection) -> None:
        conn.info.pop(STAGED, None)

    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)


class Outbox:
    """Validates and stores the events one service produces; `produced_at` is read from the
    service's clock, so a test can run producers whose clocks disagree."""

    def __init__(
        self,
        registry: SchemaRegistry,
        producer: str,
        versions: Mapping[str, int] | None = None,
        clock: Clock = system_clock,
        keepers: Sequence[Keeper] = (),
    ) -> None:
        self.registry = registry
        self.producer = producer
        self.clock = clock
        self.keepers = tuple(keepers)
        self._versions = dict(versions or {})

    def version_of(self, event_name: str) -> int:
        """The version this producer emits: pinned by configuration, else the newest."""
        return self._versions.get(event_name, self.registry.spec(event_name).latest_version)

    def pin_version(self, event_name: str, version: int) -> None:
        self.registry.schema(event_name, version)  # refuses an unknown version
        self._versions[event_name] = version

    def stage(
        self,
        conn: Connection,
        event_name: str,
        payload: dict[str, Any],
        *,
        version: int | None = None,
    ) -> Envelope:
        """Validate the event and write it in the caller's transaction.

        An invalid event raises SchemaViolation here, so the state change rolls back with it.
        """
        envelope = Envelope.new(
            event_name,
            self.version_of(event_name) if version is None else version,
            payload,
            producer=self.producer,
            trace_id=current_trace_id(),
            produced_at=rfc3339(self.clock()),
        )
        body = self.stage_envelope(conn, envelope)
        for keep in self.keepers:
            keep(conn, envelope, body)
        return envelope

    def stage_envelope(self, conn: Connection, envelope: Envelope) -> bytes:
        """Store an already built envelope (re-sending under its original event id); the
        JSON it was stored as."""
        self.registry.validate(envelope.as_dict())
        spec = self.registry.spec(envelope.event_name)
        key = self.registry.partition_key(envelope.event_name, envelope.payload)
        if conn.dialect.name == "postgresql":
            conn.execute(_LOCK_KEY, {"space": KEY_LOCKS, "key": key})  # see the module's doc
        conn.info[STAGED] = True  # read by the relay's commit hook (wake_relay_on_commit)
        body = envelope.to_json()
        _INSERT(
            conn,
            {
                "event_id": envelope.event_id,
                "event_name": envelope.event_name,
                "event_version": envelope.event_version,
                "topic": spec.topic,
                "partition_key": key,
                "body": body,
                "trace_id": envelope.trace_id,
                "created_at": time.time(),
            },
        )
        return body


def backlog(conn: Connection) -> int:
    return int(
        conn.execute(sa.select(sa.func.count()).where(outbox.c.sent_at.is_(None))).scalar_one()
    )
