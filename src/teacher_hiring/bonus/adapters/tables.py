"""The bonus service's tables (SQLAlchemy Core); migrations/versions creates the same ones.

Timestamps are RFC 3339 UTC text with microseconds ("2025-03-14T09:26:53.589793Z"): exact, and
their text order is their time order, which the statement's range queries rely on. On
PostgreSQL they are compared in the "C" collation (bytes, as SQLite does), whatever locale the
database was created with: a linguistic collation is free to order text otherwise.
"""

from __future__ import annotations

import sqlalchemy as sa

from teacher_hiring.events.managers import manager_columns

metadata = sa.MetaData()

# BIGINT on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the auto-incrementing rowid.
LedgerId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.String(32).with_variant(sa.String(32, collation="C"), "postgresql")

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("manager_id", sa.String(100), primary_key=True),
    sa.Column("opened_at", Timestamp, nullable=False),
)

ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("id", LedgerId, primary_key=True, autoincrement=True),
    sa.Column("manager_id", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("business_key", sa.String(200), nullable=False),
    sa.Column("source_event_id", sa.String(36), nullable=False),
    sa.Column("source_event_name", sa.String(100), nullable=False),
    sa.Column("source_producer", sa.String(100), nullable=False),
    sa.Column("trace_id", sa.String(64), nullable=False),
    sa.Column("occurred_at", Timestamp, nullable=False),
    sa.Column("recorded_at", Timestamp, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.UniqueConstraint("business_key", name="uq_ledger_business_key"),
    sa.CheckConstraint("kind IN ('bonus', 'fine', 'payment')", name="ck_ledger_kind"),
    sa.CheckConstraint(
        "(kind = 'fine' AND amount_cents < 0) OR (kind <> 'fine' AND amount_cents >= 0)",
        name="ck_ledger_sign",
    ),
)
sa.Index("ix_ledger_manager_occurred", ledger.c.manager_id, ledger.c.occurred_at)
# Reconciliation reads the ledger by window, and looks entries up by their source event.
sa.Index("ix_ledger_occurred", ledger.c.occurred_at, ledger.c.id)
sa.Index("ix_ledger_source_event", ledger.c.source_event_id)

ratings = sa.Table(
    "ratings",
    metadata,
    sa.Column("exercise_id", sa.String(100), primary_key=True),
    sa.Column("exercise_version", sa.Integer, nullable=False),
    sa.Column("rating", sa.Integer, nullable=False),
    sa.Column("rating_version", sa.Integer, nullable=False),
    sa.Column("attempted_candidates", sa.Integer, nullable=False),
    sa.Column("failed_first_attempts", sa.Integer, nullable=False),
    sa.Column("changed_at", Timestamp, nullable=False),
)

managers = sa.Table(
    "managers",
    metadata,
    sa.Column("manager_id", sa.String(100), primary_key=True),
    *manager_columns(),
    sa.Column("as_of", Timestamp, nullable=False),
)
