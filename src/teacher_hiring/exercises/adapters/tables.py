"""The service's tables (SQLAlchemy Core); the migrations create exactly these."""

from __future__ import annotations

import sqlalchemy as sa

from teacher_hiring.events.exercise_columns import classification_columns, content_columns
from teacher_hiring.events.managers import manager_columns
from teacher_hiring.money import issued

metadata = sa.MetaData()

# The money events this service issued, kept after sending (money/issued.py).
issued_money = issued.declare(metadata)

managers = sa.Table(
    "managers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    *manager_columns(),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

exercises = sa.Table(
    "exercises",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    *content_columns(answers=sa.JSON, check_mode=sa.String(20)),
    sa.Column("author_id", sa.String(36), sa.ForeignKey("managers.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(30), nullable=False),
    *classification_columns(),
    sa.Column("created_at", sa.Float, nullable=False),
    # When the current version was saved; a status change does not touch it.
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.CheckConstraint("version >= 1", name="ck_exercises_version"),
    sa.CheckConstraint("check_mode IN ('exact', 'normalized')", name="ck_exercises_check_mode"),
    sa.CheckConstraint("status IN ('active', 'needs_complication')", name="ck_exercises_status"),
)
sa.Index("ix_exercises_author", exercises.c.author_id)
sa.Index("ix_exercises_status", exercises.c.status)

exercise_versions = sa.Table(
    "exercise_versions",
    metadata,
    sa.Column("exercise_id", sa.String(36), sa.ForeignKey("exercises.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    *content_columns(answers=sa.JSON, check_mode=sa.String(20)),
    *classification_columns(),
    sa.Column("edited_by", sa.String(36), sa.ForeignKey("managers.id"), nullable=False),
    sa.Column("saved_at", sa.Float, nullable=False),
)

complication_assignments = sa.Table(
    "complication_assignments",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("exercise_id", sa.String(36), sa.ForeignKey("exercises.id"), nullable=False),
    sa.Column("exercise_version", sa.Integer, nullable=False),  # the leaked version
    sa.Column("assignee_id", sa.String(36), sa.ForeignKey("managers.id"), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("opened_at", sa.Float, nullable=False),
    sa.Column("closed_at", sa.Float, nullable=True),
    sa.Column("closed_with_version", sa.Integer, nullable=True),
    sa.Column("source_event_id", sa.String(36), nullable=True),
    # The leak report's evidence (v2's completed_by: [{candidate_id, registered_by, origin}]);
    # NULL or [] when the report carried none (v0, v1): its payment is made as before.
    sa.Column("completed_by", sa.JSON, nullable=True),
    # One assignment per leaked version, however often the leak is reported.
    sa.UniqueConstraint("exercise_id", "exercise_version", name="uq_assignments_version"),
    sa.CheckConstraint("status IN ('open', 'closed')", name="ck_assignments_status"),
)
sa.Index(
    "ix_assignments_assignee",
    complication_assignments.c.assignee_id,
    complication_assignments.c.status,
)
sa.Index(
    "ix_assignments_exercise",
    complication_assignments.c.exercise_id,
    complication_assignments.c.status,
)

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    # The business key: one payment per assignment, whatever is retried.
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
sa.Index("ix_payments_manager", payments.c.manager_id)

# The origins (runtime.origins) each manager's own requests came from: creating and editing
# exercises. A complication payment is checked against them (domain.model.payment_evidence).
manager_origins = sa.Table(
    "manager_origins",
    metadata,
    sa.Column("manager_id", sa.String(36), sa.ForeignKey("managers.id"), primary_key=True),
    sa.Column("origin", sa.String(32), primary_key=True),
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
)

# Complication payments held because most of the leaked completions came from the assignee's
# own candidates (docs/security.md): an operator approves (the payment is made then, once) or
# rejects (never paid). One review per assignment.
payment_reviews = sa.Table(
    "payment_reviews",
    metadata,
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
    sa.Column("exercise_version", sa.Integer, nullable=False),  # the version that closed it
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
sa.Index("ix_payment_reviews_status", payment_reviews.c.status, payment_reviews.c.held_at)

candidates = sa.Table(
    "candidates",
    metadata,
    sa.Column("candidate_id", sa.String(200), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("exercises_to_solve", sa.JSON, nullable=False),
    sa.Column("exercises_solved", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=True),  # unknown until CandidateCreated arrives
    sa.Column("updated_at", sa.Float, nullable=False),
)
sa.Index("ix_candidates_status", candidates.c.status)
