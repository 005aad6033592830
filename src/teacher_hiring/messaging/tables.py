"""The outbox and inbox tables every service has, in its own database.

Services create them in their first Alembic migration through `create_messaging_tables`, so the
messaging package stays ignorant of any service while each service owns its schema.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

# BIGINT on PostgreSQL, where an INTEGER id (a SERIAL) would run out after 2^31 events; on
# SQLite only INTEGER PRIMARY KEY is the auto-incrementing rowid, and it is 64-bit already.
OutboxId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def outbox_columns() -> list[Any]:
    return [
        sa.Column("id", OutboxId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_name", sa.String(100), nullable=False),
        sa.Column("event_version", sa.Integer, nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition_key", sa.String(200), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("trace_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("sent_at", sa.Float, nullable=True),
    ]


def inbox_columns() -> list[Any]:
    return [
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_name", sa.String(100), nullable=False),
        sa.Column("processed_at", sa.Float, nullable=False),
    ]


metadata = sa.MetaData()
outbox = sa.Table("outbox", metadata, *outbox_columns())
sa.Index("ix_outbox_unsent", outbox.c.sent_at, outbox.c.id)
inbox = sa.Table("inbox", metadata, *inbox_columns())


def create_messaging_tables(op: Any) -> None:
    """Called from a service's first Alembic migration (`op` is alembic.op)."""
    op.create_table("outbox", *outbox_columns())
    op.create_index("ix_outbox_unsent", "outbox", ["sent_at", "id"])
    op.create_table("inbox", *inbox_columns())


def drop_messaging_tables(op: Any) -> None:
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unsent", "outbox")
    op.drop_table("outbox")
