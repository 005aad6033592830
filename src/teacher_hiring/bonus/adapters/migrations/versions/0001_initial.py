"""Accounts, the append-only ledger, ratings, the managers replica, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2025-03-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from teacher_hiring.messaging.tables import create_messaging_tables, drop_messaging_tables

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LedgerId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Compared as text: byte order on PostgreSQL too, whatever the database's locale.
Timestamp = sa.String(32).with_variant(sa.String(32, collation="C"), "postgresql")

_SQLITE_APPEND_ONLY = [
    f"""CREATE TRIGGER ledger_no_{action.lower()} BEFORE {action} ON ledger
        BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END"""
    for action in ("UPDATE", "DELETE")
]
_POSTGRES_APPEND_ONLY = [
    """CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'ledger is append-only'; END $$""",
    """CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
        FOR EACH ROW EXECUTE FUNCTION ledger_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("manager_id", sa.String(100), primary_key=True),
        sa.Column("opened_at", Timestamp, nullable=False),
    )
    op.create_table(
        "ledger",
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
    op.create_index("ix_ledger_manager_occurred", "ledger", ["manager_id", "occurred_at"])
    op.create_table(
        "ratings",
        sa.Column("exercise_id", sa.String(100), primary_key=True),
        sa.Column("exercise_version", sa.Integer, nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("rating_version", sa.Integer, nullable=False),
        sa.Column("attempted_candidates", sa.Integer, nullable=False),
        sa.Column("failed_first_attempts", sa.Integer, nullable=False),
        sa.Column("changed_at", Timestamp, nullable=False),
    )
    op.create_table(
        "managers",
        sa.Column("manager_id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("as_of", Timestamp, nullable=False),
    )
    create_messaging_tables(op)
    statements = _POSTGRES_APPEND_ONLY if _dialect() == "postgresql" else _SQLITE_APPEND_ONLY
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    drop_messaging_tables(op)
    if _dialect() == "postgresql":
        op.execute("DROP TRIGGER ledger_append_only ON ledger")
        op.execute("DROP FUNCTION ledger_append_only()")
    op.drop_table("managers")
    op.drop_table("ratings")
    op.drop_index("ix_ledger_manager_occurred", "ledger")
    op.drop_table("ledger")
    op.drop_table("accounts")


def _dialect() -> str:
    return str(op.get_bind().dialect.name)
