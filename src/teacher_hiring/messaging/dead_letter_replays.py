"""Which dead letters a service has replayed: a small table in the service's own database.

A dead letter is named by its place in `<topic>.dlq` (partition, offset) and by a digest of the
record, so that a mark never applies to another record that a re-created topic put at the same
place. Purging needs no mark of its own: the purged records are gone from the log, and their
replay marks are deleted with them. Services create the table in an Alembic migration through
`create_replays_table`, as they create the outbox and inbox.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from teacher_hiring.foundation.sql import dialect_insert

TABLE = "dead_letter_replays"


def replay_columns() -> list[Any]:
    return [
        sa.Column("topic", sa.String(200), primary_key=True),  # the original topic
        sa.Column("partition_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("offset_no", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=True),
        sa.Column("replayed_at", sa.Float, nullable=False),
    ]


metadata = sa.MetaData()
dead_letter_replays = sa.Table(TABLE, metadata, *replay_columns())


def create_replays_table(op: Any) -> None:
    """Called from a service's Alembic migration (`op` is alembic.op)."""
    op.create_table(TABLE, *replay_columns())


def drop_replays_table(op: Any) -> None:
    op.drop_table(TABLE)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a dead letter is: `<topic>.dlq`, partition, offset; and which record it is."""

    topic: str
    partition: int
    offset: int
    digest: str


@dataclass(frozen=True, slots=True)
class Claim:
    place: Place
    consumer: str
    event_id: str | None


def replayed_at(conn: Connection, places: Iterable[Place]) -> dict[Place, float]:
    """When each of these dead letters was replayed; absent: never (or another record)."""
    wanted = {(p.topic, p.partition, p.offset): p for p in places}
    if not wanted:
        return {}
    table = dead_letter_replays
    query = sa.select(
        table.c.topic, table.c.partition_no, table.c.offset_no, table.c.digest, table.c.replayed_at
    ).where(table.c.topic.in_(sorted({topic for topic, _, _ in wanted})))
    found: dict[Place, float] = {}
    for row in conn.execute(query):
        place = wanted.get((row.topic, row.partition_no, row.offset_no))
        if place is not None and place.digest == row.digest:
            found[place] = row.replayed_at
    return found


def claim(conn: Connection, claims: Iterable[Claim]) -> list[Claim]:
    """Mark the dead letters replayed; returns those no one had marked, which the caller then
    publishes in this same transaction. A mark left by another record at the same place (a
    re-created topic) is replaced; on PostgreSQL a concurrent replay of the same dead letter
    waits for this transaction and then finds it claimed."""
    wanted = list(claims)
    if not wanted:
        return []
    table = dead_letter_replays
    now = time.time()
    won: list[Claim] = []
    for item in wanted:
        place = item.place
        at_place = (
            (table.c.topic == place.topic)
            & (table.c.partition_no == place.partition)
            & (table.c.offset_no == place.offset)
        )
        conn.execute(table.delete().where(at_place & (table.c.digest != place.digest)))
        insert = dialect_insert(conn.dialect.name, table).values(
            topic=place.topic,
            partition_no=place.partition,
            offset_no=place.offset,
            digest=place.digest,
            consumer=item.consumer,
            event_id=item.event_id,
            replayed_at=now,
        )
        if conn.execute(insert.on_conflict_do_nothing()).rowcount == 1:
            won.append(item)
    return won


def unclaim(conn: Connection, places: Iterable[Place]) -> None:
    """Take back the marks of dead letters claimed in this transaction but not published."""
    table = dead_letter_replays
    for place in places:
        conn.execute(
            table.delete().where(
                (table.c.topic == place.topic)
                & (table.c.partition_no == place.partition)
                & (table.c.offset_no == place.offset)
                & (table.c.digest == place.digest)
            )
        )


def _below(topic: str, before: Mapping[int, int]) -> sa.ColumnElement[bool]:
    table = dead_letter_replays
    partitions = [
        (table.c.partition_no == partition) & (table.c.offset_no < offset)
        for partition, offset in before.items()
    ]
    below: sa.ColumnElement[bool] = (table.c.topic == topic) & sa.or_(sa.false(), *partitions)
    return below


def any_below(conn: Connection, topic: str, before: Mapping[int, int]) -> bool:
    """Whether a mark is left below `before[partition]` in some partition."""
    query = sa.select(dead_letter_replays.c.offset_no).where(_below(topic, before)).limit(1)
    return conn.execute(query).first() is not None


def forget(conn: Connection, topic: str, before: Mapping[int, int]) -> int:
    """Delete the marks of purged dead letters (below `before[partition]`); returns how many."""
    if not before:
        return 0
    return int(conn.execute(dead_letter_replays.delete().where(_below(topic, before))).rowcount)
