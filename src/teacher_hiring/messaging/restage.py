"""Staging again, under its original event id, an envelope a producer kept after sending.

Generic over what is kept: `kept` is any table of the producer's database with an `event_id`
and the envelope as sent in `body` (the money a service issued is one: money/issued.py).
The outbox is a queue whose sent rows are purged after a while; a record kept longer lets a
gap found later be repaired by staging that envelope again: it goes out by the relay like any
event, and the receiver's inbox makes a copy that was not needed change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import Connection

from teacher_hiring.foundation.sql import locks_rows
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.messaging.tables import outbox as outbox_table

_CHUNK = 500


class Resent(StrEnum):
    RESTAGED = "restaged"  # staged again in the outbox, under its own event id
    PENDING = "pending"  # its outbox row is not sent yet: the relay will deliver it
    UNKNOWN = "unknown"  # not in the record: never issued here, or forgotten since


def restage(
    conn: Connection, outbox: Outbox, kept: sa.Table, event_ids: Sequence[str]
) -> dict[str, Resent]:
    """Stage the kept envelope of each event again, in the caller's transaction.

    A sent outbox row still kept under that event id (the outbox's event ids are unique) is
    removed first, as its purge would remove it later; an unsent one is left to the relay.
    On PostgreSQL the records are locked first, so two repairs at once take turns.
    """
    wanted = list(dict.fromkeys(event_ids))
    bodies: dict[str, bytes] = {}
    queued: dict[str, float | None] = {}
    for chunk in _chunks(wanted):
        records = sa.select(kept.c.event_id, kept.c.body).where(kept.c.event_id.in_(chunk))
        if locks_rows(conn):
            records = records.with_for_update()
        bodies.update((row[0], row[1]) for row in conn.execute(records))
        rows = sa.select(outbox_table.c.event_id, outbox_table.c.sent_at).where(
            outbox_table.c.event_id.in_(chunk)
        )
        queued.update((row[0], row[1]) for row in conn.execute(rows))
    outcomes: dict[str, Resent] = {}
    for event_id in wanted:
        if event_id not in bodies:
            outcomes[event_id] = Resent.UNKNOWN
        elif event_id in queued and queued[event_id] is None:
            outcomes[event_id] = Resent.PENDING
        else:
            if event_id in queued:
                conn.execute(outbox_table.delete().where(outbox_table.c.event_id == event_id))
            outbox.stage_envelope(conn, Envelope.from_json(bodies[event_id]))
            outcomes[event_id] = Resent.RESTAGED
    return outcomes


def restage_on_topic(
    conn: Connection,
    outbox: Outbox,
    topic: str,
    event_ids: Sequence[str],
    kept: Sequence[sa.Table] = (),
) -> dict[str, Resent]:
    """For a replay a consumer of `topic` asks for: stage again, in the caller's transaction,
    each of these events that this producer sent on `topic` and still holds: in its outbox
    (sent rows stay `outbox_retention_s`), else in one of the `kept` records (the money it
    issued). What goes out is the producer's own copy, never bytes handed in by the consumer;
    an event of another topic, or one it no longer holds, is UNKNOWN."""
    wanted = list(dict.fromkeys(event_ids))
    outcomes: dict[str, Resent] = dict.fromkeys(wanted, Resent.UNKNOWN)
    in_outbox: set[str] = set()
    for chunk in _chunks(wanted):
        rows = sa.select(outbox_table.c.event_id).where(
            outbox_table.c.event_id.in_(chunk), outbox_table.c.topic == topic
        )
        in_outbox.update(conn.execute(rows).scalars())
    outcomes.update(restage(conn, outbox, outbox_table, [e for e in wanted if e in in_outbox]))
    for table in kept:
        rest = [e for e, outcome in outcomes.items() if outcome is Resent.UNKNOWN]
        on_topic: list[str] = []
        for chunk in _chunks(rest):
            found = sa.select(table.c.event_id, table.c.body).where(table.c.event_id.in_(chunk))
            for event_id, body in conn.execute(found):
                name = Envelope.from_json(body).event_name
                if outbox.registry.spec(name).topic == topic:
                    on_topic.append(event_id)
        outcomes.update(restage(conn, outbox, table, on_topic))
    return outcomes


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
