"""Indexes reconciliation reads the ledger by: the window, and the source event of an entry.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ledger_occurred", "ledger", ["occurred_at", "id"])
    op.create_index("ix_ledger_source_event", "ledger", ["source_event_id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_source_event", "ledger")
    op.drop_index("ix_ledger_occurred", "ledger")
