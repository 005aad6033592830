"""Complication payments held for review (docs/security.md, "Payments held for review"):
the origins of each manager's own requests (`manager_origins`), the leak report's evidence
with its assignment (`complication_assignments.completed_by`), and the review queue
(`payment_reviews`). Assignments opened before have no evidence: paid as before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("complication_assignments", sa.Column("completed_by", sa.JSON, nullable=True))
    op.create_table(
        "manager_origins",
        sa.Column("manager_id", sa.String(36), sa.ForeignKey("managers.id"), primary_key=True),
        sa.Column("origin", sa.String(32), primary_key=True),
        sa.Column("first_seen", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
    )
    op.create_table(
        "payment_reviews",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "assignment_id",
            sa.String(36),
            sa.ForeignKey("complication_assignments.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("manager_id", sa.String(36), sa.ForeignKey("managers.id"), nullable=False),
        sa.Column("amount_cents", sa.Integer, nullable=False),
        sa.Column("exercise_id", sa.String(36), nullable=False),
        sa.Column("exercise_version", sa.Integer, nullable=False),
        sa.Column("completions", sa.Integer, nullable=False),
        sa.Column("own_completions", sa.Integer, nullable=False),
        sa.Column("registered_by_manager", sa.Integer, nullable=False),
        sa.Column("same_origin", sa.Integer, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("held_at", sa.Float, nullable=False),
        sa.Column("decided_at", sa.Float, nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("payment_id", sa.String(36), nullable=True),
        sa.CheckConstraint("amount_cents > 0", name="ck_payment_reviews_amount"),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name="ck_payment_reviews_status"
        ),
    )
    op.create_index("ix_payment_reviews_status", "payment_reviews", ["status", "held_at"])


def downgrade() -> None:
    op.drop_index("ix_payment_reviews_status", table_name="payment_reviews")
    op.drop_table("payment_reviews")
    op.drop_table("manager_origins")
    with op.batch_alter_table("complication_assignments") as batch:
        batch.drop_column("completed_by")
