"""Which dead letters of the consumer groups were replayed (docs/runbooks/dead-letters.md).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from teacher_hiring.messaging.dead_letter_replays import create_replays_table, drop_replays_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_replays_table(op)


def downgrade() -> None:
    drop_replays_table(op)
