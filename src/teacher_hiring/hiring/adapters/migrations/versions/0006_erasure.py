"""Erasing a candidate: when it happened, and the per-candidate keys that seal names in events.

Existing candidates get a key the first time an event of theirs is sealed; their older events
keep the name in clear (docs/security.md, erasure).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("candidates", sa.Column("erased_at", sa.Float, nullable=True))
    op.create_table(
        "person_keys",
        sa.Column("candidate_id", sa.String(36), primary_key=True),
        sa.Column("key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("person_keys")
    op.execute("ALTER TABLE candidates DROP COLUMN erased_at")
