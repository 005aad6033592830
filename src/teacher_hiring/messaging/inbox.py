"""The inbox: which events a consumer has applied, recorded with the effect itself.

A redelivered event hits the primary key (consumer, event_id) and changes nothing. The insert
uses ON CONFLICT DO NOTHING so that a duplicate does not abort a PostgreSQL transaction.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy import Connection

from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.tables import inbox
from teacher_hiring.runtime.db import dialect_insert

_CLAIM: dict[str, sa.Insert] = {
    dialect: dialect_insert(dialect, inbox).on_conflict_do_nothing()
    for dialect in ("postgresql", "sqlite")
}


def claim(conn: Connection, consumer: str, envelope: Envelope) -> bool:
    """Record the event as applied by `consumer`; False if it already was.

    One statement object per dialect, so SQLAlchemy compiles it once: this runs per event.
    """
    values = {
        "consumer": consumer,
        "event_id": envelope.event_id,
        "event_name": envelope.event_name,
        "processed_at": time.time(),
    }
    return conn.execute(_CLAIM[conn.dialect.name], values).rowcount == 1


def seen(conn: Connection, consumer: str, event_id: str) -> bool:
    query = sa.select(inbox.c.event_id).where(
        inbox.c.consumer == consumer, inbox.c.event_id == event_id
    )
    return conn.execute(query).first() is not None
