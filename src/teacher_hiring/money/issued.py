"""The money a producer issued, kept after its event left: what reconciliation compares.

A producer of money events (hiring: BonusAdded and FineAdded; exercises: PaymentCommited)
writes one row here for each such event, on the connection of the unit of work that stages it
in the outbox (`keep`), so the record and the event commit together or not at all. The event
itself still leaves through the outbox only.

The outbox is a queue: its sent rows are purged after `outbox_retention_s`. This record keeps
the envelope as it was sent for `money_retention_s` (90 days by default), so a gap found later
is repaired by staging that envelope again (`restage`, through messaging.restage), under its
original event id: it goes out by the relay like any event, and the receiver's inbox and the
ledger's business key make a copy that was not needed change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import orjson
import sqlalchemy as sa
from pydantic import Field
from sqlalchemy import Connection, Engine

from teacher_hiring.foundation.pages import now_text, parse_moment
from teacher_hiring.foundation.sql import bound_insert
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.messaging.restage import Resent
from teacher_hiring.messaging.restage import restage as restage_kept

MONEY_EVENTS = frozenset({"BonusAdded", "FineAdded", "PaymentCommited"})
"""Events that move money; each carries manager_id, amount_cents and occurred_at."""

Timestamp = sa.String(32).with_variant(sa.String(32, collation="C"), "postgresql")


def retention_setting() -> Any:
    """The `money_retention_s` setting of a service that issues money events."""
    return Field(
        90 * 24 * 3600,
        gt=0,
        description="How long the money events this service issued are kept after sending, "
        "for reconciliation and its repair (re-sending under the original event id)",
    )


def issued_money_columns() -> list[Any]:
    return [
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_name", sa.String(100), nullable=False),
        sa.Column("manager_id", sa.String(100), nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        # The event's occurred_at, normalised: the same moment the ledger files the entry under.
        sa.Column("occurred_at", Timestamp, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    ]


metadata = sa.MetaData()
issued_money = sa.Table("issued_money", metadata, *issued_money_columns())
sa.Index("ix_issued_money_occurred", issued_money.c.occurred_at, issued_money.c.event_id)
sa.Index("ix_issued_money_manager", issued_money.c.manager_id, issued_money.c.occurred_at)
_KEEP = bound_insert(
    issued_money, ("event_id", "event_name", "manager_id", "amount_cents", "occurred_at", "body")
)


def declare(target: sa.MetaData) -> sa.Table:
    """The table in a service's own metadata (its tables.py), indexes included."""
    return issued_money.to_metadata(target)


def create_issued_money_table(op: Any) -> None:
    """Called from a producer's Alembic migration (`op` is alembic.op)."""
    op.create_table("issued_money", *issued_money_columns())
    op.create_index("ix_issued_money_occurred", "issued_money", ["occurred_at", "event_id"])
    op.create_index("ix_issued_money_manager", "issued_money", ["manager_id", "occurred_at"])


def drop_issued_money_table(op: Any) -> None:
    op.drop_table("issued_money")


def keep(conn: Connection, envelope: Envelope, body: bytes) -> None:
    """Record a money event just staged in the outbox, in the same transaction, as `body`
    (the envelope's JSON, as the outbox stored it); others pass."""
    if envelope.event_name not in MONEY_EVENTS:
        return
    payload = envelope.payload
    _KEEP(
        conn,
        {
            "event_id": envelope.event_id,
            "event_name": envelope.event_name,
            "manager_id": payload["manager_id"],
            "amount_cents": payload["amount_cents"],
            "occurred_at": parse_moment(payload["occurred_at"], "occurred_at"),
            "body": body,
        },
    )


@dataclass(frozen=True, slots=True)
class IssuedQuery:
    since: str | None = None
    until: str | None = None
    manager_id: str | None = None
    after: tuple[str, str] | None = None
    limit: int = 500


class IssuedRecord(TypedDict):
    """One money event as it was sent, with what reconciliation compares drawn out of it."""

    event_id: str
    event_name: str
    event_version: int
    producer: str
    produced_at: str
    trace_id: str
    manager_id: str
    amount_cents: int
    occurred_at: str  # normalised: the moment the ledger files the entry under
    payload: dict[str, Any]  # the event's payload, as it was sent


def page(conn: Connection, query: IssuedQuery) -> list[IssuedRecord]:
    """Money issued in [since, until), oldest first (ties by event id), after the cursor."""
    t = issued_money.c
    select = sa.select(t.event_id, t.manager_id, t.amount_cents, t.occurred_at, t.body)
    if query.since is not None:
        select = select.where(t.occurred_at >= query.since)
    if query.until is not None:
        select = select.where(t.occurred_at < query.until)
    if query.manager_id is not None:
        select = select.where(t.manager_id == query.manager_id)
    if query.after is not None:
        moment, event_id = query.after
        select = select.where(
            sa.or_(t.occurred_at > moment, sa.and_(t.occurred_at == moment, t.event_id > event_id))
        )
    select = select.order_by(t.occurred_at, t.event_id).limit(query.limit)
    return [_item(*row) for row in conn.execute(select)]


def _item(
    event_id: str, manager_id: str, amount_cents: int, occurred_at: str, body: bytes
) -> IssuedRecord:
    envelope = orjson.loads(body)
    return IssuedRecord(
        event_id=event_id,
        event_name=envelope["event_name"],
        event_version=envelope["event_version"],
        producer=envelope["producer"],
        produced_at=envelope["produced_at"],
        trace_id=envelope["trace_id"],
        manager_id=manager_id,
        amount_cents=int(amount_cents),
        occurred_at=occurred_at,
        payload=envelope["payload"],
    )


def purge(engine: Engine, older_than_s: float) -> int:
    """Forget money that occurred more than `older_than_s` ago; how many records went."""
    cutoff = now_text(minus_s=older_than_s)
    with engine.begin() as conn:
        result = conn.execute(issued_money.delete().where(issued_money.c.occurred_at < cutoff))
    return int(result.rowcount)


def restage(conn: Connection, outbox: Outbox, event_ids: Sequence[str]) -> dict[str, Resent]:
    """Stage the original envelope of each money event again, in the caller's transaction
    (messaging.restage: a sent outbox row is replaced, an unsent one left to the relay)."""
    return restage_kept(conn, outbox, issued_money, event_ids)
