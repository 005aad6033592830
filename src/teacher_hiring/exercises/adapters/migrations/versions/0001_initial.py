"""The exercises service's first schema, with its outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2025-03-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from teacher_hiring.messaging.tables import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "managers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "exercises",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("accepted_answers", sa.JSON, nullable=False),
        sa.Column("check_mode", sa.String(20), nullable=False),
        sa.Column("author_id", sa.String(36), sa.ForeignKey("managers.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.CheckConstraint("version >= 1", name="ck_exercises_version"),
        sa.CheckConstraint("check_mode IN ('exact', 'normalized')", name="ck_exercises_check_mode"),
        sa.CheckConstraint(
            "status IN ('active', 'needs_complication')", name="ck_exercises_status"
        ),
    )
    op.create_index("ix_exercises_author", "exercises", ["author_id"])
    op.create_index("ix_exercises_status", "exercises", ["status"])
    op.create_table(
        "exercise_versions",
        sa.Column("exercise_id", sa.String(36), sa.ForeignKey("exercises.id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("accepted_answers", sa.JSON, nullable=False),
        sa.Column("check_mode", sa.String(20), nullable=False),
        sa.Column("edited_by", sa.String(36), sa.ForeignKey("managers.id"), nullable=False),
        sa.Column("saved_at", sa.Float, nullable=False),
    )
    op.create_table(
        "complication_assignments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("exercise_id", sa.String(36), sa.ForeignKey("exercises.id"), nullable=False),
        sa.Column("exercise_version", sa.Integer, nullable=False),
        sa.Column("assignee_id", sa.String(36), sa.ForeignKey("managers.id"), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("opened_at", sa.Float, nullable=False),
        sa.Column("closed_at", sa.Float, nullable=True),
        sa.Column("closed_with_version", sa.Integer, nullable=True),
        sa.Column("source_event_id", sa.String(36), nullable=True),
        sa.UniqueConstraint("exercise_id", "exercise_version", name="uq_assignments_version"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_assignments_status"),
    )
    op.create_index(
        "ix_assignments_assignee", "complication_assignments", ["assignee_id", "status"]
    )
    op.create_index(
        "ix_assignments_exercise", "complication_assignments", ["exercise_id", "status"]
    )
    op.create_table(
        "payments",
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
        sa.Column("created_at", sa.Float, nullable=False),
        sa.CheckConstraint("amount_cents > 0", name="ck_payments_amount"),
    )
    op.create_index("ix_payments_manager", "payments", ["manager_id"])
    op.create_table(
        "candidates",
        sa.Column("candidate_id", sa.String(200), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("exercises_to_solve", sa.JSON, nullable=False),
        sa.Column("exercises_solved", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=True),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_candidates_status", "candidates", ["status"])
    create_messaging_tables(op)


def downgrade() -> None:
    drop_messaging_tables(op)
    op.drop_index("ix_candidates_status", "candidates")
    op.drop_table("candidates")
    op.drop_index("ix_payments_manager", "payments")
    op.drop_table("payments")
    op.drop_index("ix_assignments_exercise", "complication_assignments")
    op.drop_index("ix_assignments_assignee", "complication_assignments")
    op.drop_table("complication_assignments")
    op.drop_table("exercise_versions")
    op.drop_index("ix_exercises_status", "exercises")
    op.drop_index("ix_exercises_author", "exercises")
    op.drop_table("exercises")
    op.drop_table("managers")
