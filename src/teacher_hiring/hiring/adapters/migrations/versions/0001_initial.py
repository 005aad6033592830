"""Hiring's first schema: candidates, submissions, counters, stats, replicas, outbox, inbox.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
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
        "candidates",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_candidates_status", "candidates", ["status", "created_at"])
    op.create_table(
        "candidate_exercises",
        sa.Column("candidate_id", sa.String(36), sa.ForeignKey("candidates.id"), primary_key=True),
        sa.Column("exercise_id", sa.String(36), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("solved_at", sa.Float, nullable=True),
        sa.Column("solved_version", sa.Integer, nullable=True),
        sa.Column("solved_submission_id", sa.String(36), nullable=True),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("candidate_id", sa.String(36), nullable=False),
        sa.Column("exercise_id", sa.String(36), nullable=False),
        sa.Column("exercise_version", sa.Integer, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("correct", sa.Boolean, nullable=False),
        sa.Column("attempt_number", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("money_kind", sa.String(8), nullable=True),
        sa.Column("money_cents", sa.Integer, nullable=True),
        sa.Column("money_manager_id", sa.String(36), nullable=True),
        sa.UniqueConstraint("candidate_id", "idempotency_key", name="uq_submissions_idempotency"),
    )
    op.create_index(
        "ix_submissions_money",
        "submissions",
        ["money_manager_id"],
        sqlite_where=sa.text("money_kind IS NOT NULL"),
        postgresql_where=sa.text("money_kind IS NOT NULL"),
    )
    op.create_table(
        "attempt_counters",
        sa.Column("candidate_id", sa.String(36), primary_key=True),
        sa.Column("exercise_id", sa.String(36), primary_key=True),
        sa.Column("exercise_version", sa.Integer, primary_key=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("first_attempt_failed", sa.Boolean, nullable=False),
    )
    op.create_table(
        "exercise_version_stats",
        sa.Column("exercise_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("completions", sa.Integer, nullable=False),
        sa.Column("attempted_candidates", sa.Integer, nullable=False),
        sa.Column("failed_first_attempts", sa.Integer, nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("needs_complication", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_stats_assignable", "exercise_version_stats", ["needs_complication", "completions"]
    )
    op.create_table(
        "exercises",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("accepted_answers", sa.Text, nullable=False),
        sa.Column("check_mode", sa.String(16), nullable=False),
        sa.Column("author_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.Column("replicated_at", sa.Float, nullable=False),
        sa.Column("rating_version", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "managers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("replicated_at", sa.Float, nullable=False),
    )
    create_messaging_tables(op)


def downgrade() -> None:
    drop_messaging_tables(op)
    for table in (
        "managers",
        "exercises",
        "exercise_version_stats",
        "attempt_counters",
        "submissions",
        "candidate_exercises",
        "candidates",
    ):
        op.drop_table(table)
