"""The inbox: which events a consumer has applied, recorded with the effect itself.

A redelivered event hits the primary key (consumer, event_id) and changes nothing. The insert
uses ON CONFLICT DO NOTHING so that a duplicate does not abort a PostgreSQL transaction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection

from teacher_hiring.foundation.sql import dialect_insert
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.tables import inbox

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


# One statement and four parameters whatever the number of events: the database plans it
# once, and nothing is rendered per event (a multi-row VALUES list would be, for every batch
# size). PostgreSQL takes the ids as arrays, SQLite as one JSON array of [id, name] pairs.
_CLAIM_JSON = (
    "INSERT INTO inbox (consumer, event_id, event_name, processed_at)"
    " SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?"
    " FROM json_each(?) WHERE true"  # WHERE: else SQLite reads ON CONFLICT as a join's ON
    " ON CONFLICT DO NOTHING RETURNING event_id"
)
_CLAIM_ARRAYS = sa.text(
    "INSERT INTO inbox (consumer, event_id, event_name, processed_at)"
    " SELECT :consumer, event_id, event_name, :processed_at"
    " FROM unnest(CAST(:event_ids AS text[]), CAST(:event_names AS text[]))"
    " AS claimed (event_id, event_name)"
    " ON CONFLICT DO NOTHING RETURNING event_id"
)


def claim_many(conn: Connection, consumer: str, envelopes: Sequence[Envelope]) -> set[str]:
    """Record several events as applied by `consumer` in one statement; the ids of those not
    applied before. An id given twice is claimed once (by its first occurrence)."""
    first = {envelope.event_id: envelope.event_name for envelope in envelopes}
    if not first:
        return set()
    now = time.time()
    if conn.dialect.name == "postgresql":
        parameters = {
            "consumer": consumer,
            "event_ids": list(first),
            "event_names": list(first.values()),
            "processed_at": now,
        }
        return set(conn.execute(_CLAIM_ARRAYS, parameters).scalars())
    pairs = orjson.dumps(list(first.items()))
    return {row[0] for row in conn.exec_driver_sql(_CLAIM_JSON, (consumer, now, pairs))}


def seen(conn: Connection, consumer: str, event_id: str) -> bool:
    query = sa.select(inbox.c.event_id).where(
        inbox.c.consumer == consumer, inbox.c.event_id == event_id
    )
    return conn.execute(query).first() is not None
