"""Idempotent registrations: `registration_keys`, a registration's Idempotency-Key written with
its candidate, so the same request sent again answers the same registration.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registration_keys",
        sa.Column("idempotency_key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("candidate_id", sa.String(36), sa.ForeignKey("candidates.id"), nullable=False),
        sa.Column("exercises", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_registration_keys_candidate", "registration_keys", ["candidate_id"])


def downgrade() -> None:
    op.drop_index("ix_registration_keys_candidate", table_name="registration_keys")
    op.drop_table("registration_keys")
