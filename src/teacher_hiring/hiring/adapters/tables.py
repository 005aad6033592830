"""Hiring's tables (SQLAlchemy Core); the migration in migrations/versions creates the same."""

from __future__ import annotations

import sqlalchemy as sa

from teacher_hiring.events.exercise_columns import classification_columns, content_columns
from teacher_hiring.events.managers import manager_columns
from teacher_hiring.money import issued

metadata = sa.MetaData()

# The money events this service issued, kept after sending (money/issued.py).
issued_money = issued.declare(metadata)

candidates = sa.Table(
    "candidates",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    # One candidate per email: the email trimmed and lowercased (domain.commands.email_key);
    # rows made duplicate before migration 0006 carry a suffix (docs/security.md).
    sa.Column("email_key", sa.String(400), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    # US-160: the candidate is assigned exercises of this subject only; NULL: of any subject.
    sa.Column("subject", sa.String(50), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    # Set when the candidate was erased: name, email and answers are gone (docs/security.md).
    sa.Column("erased_at", sa.Float, nullable=True),
    # Who registered them: the manager whose token the registration carried (NULL: anyone
    # else), and the registering client's origin, a keyed hash of its address (runtime.origins;
    # NULL: the machine's own). The evidence of a leak report (docs/security.md).
    sa.Column("registered_by", sa.String(36), nullable=True),
    sa.Column("origin", sa.String(32), nullable=True),
)

# One key per candidate, sealing their name in the events hiring produces (foundation/sealing).
# Erasing the candidate deletes the row: the events still in the log no longer open.
person_keys = sa.Table(
    "person_keys",
    metadata,
    sa.Column("candidate_id", sa.String(36), primary_key=True),
    sa.Column("key", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
sa.Index("uq_candidates_email_key", candidates.c.email_key, unique=True)

# A registration's Idempotency-Key (POST /candidates), written with its candidate: the same key
# and the same body answer the same registration again. `request_hash`: SHA-256 of the body
# (domain.commands.RegisterCandidate.fingerprint); `exercises`: the assigned exercises as they
# were answered (JSON), so a replay answers what the first answer said.
registration_keys = sa.Table(
    "registration_keys",
    metadata,
    sa.Column("idempotency_key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("candidate_id", sa.String(36), sa.ForeignKey("candidates.id"), nullable=False),
    sa.Column("exercises", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_registration_keys_candidate", "candidate_id"),
)

candidate_exercises = sa.Table(
    "candidate_exercises",
    metadata,
    sa.Column("candidate_id", sa.String(36), sa.ForeignKey("candidates.id"), primary_key=True),
    sa.Column("exercise_id", sa.String(36), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("solved_at", sa.Float, nullable=True),
    sa.Column("solved_version", sa.Integer, nullable=True),
    sa.Column("solved_submission_id", sa.String(36), nullable=True),
)

# money_* record what the submission issued (BonusAdded or FineAdded), written with the outbox
# row, so GET /totals/issued can be compared with the bonus ledger by reconciliation.
submissions = sa.Table(
    "submissions",
    metadata,
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
sa.Index(
    "ix_submissions_money",
    submissions.c.money_manager_id,
    sqlite_where=submissions.c.money_kind.is_not(None),
    postgresql_where=submissions.c.money_kind.is_not(None),
)

attempt_counters = sa.Table(
    "attempt_counters",
    metadata,
    sa.Column("candidate_id", sa.String(36), primary_key=True),
    sa.Column("exercise_id", sa.String(36), primary_key=True),
    sa.Column("exercise_version", sa.Integer, primary_key=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("first_attempt_failed", sa.Boolean, nullable=False),
)

exercise_version_stats = sa.Table(
    "exercise_version_stats",
    metadata,
    sa.Column("exercise_id", sa.String(36), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("completions", sa.Integer, nullable=False),
    sa.Column("attempted_candidates", sa.Integer, nullable=False),
    sa.Column("failed_first_attempts", sa.Integer, nullable=False),
    sa.Column("rating", sa.Integer, nullable=False),
    sa.Column("needs_complication", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
sa.Index(
    "ix_stats_assignable",
    exercise_version_stats.c.needs_complication,
    exercise_version_stats.c.completions,
)

# The replica of exercises (current version only). rating_version is hiring's own counter,
# monotonic across versions; replication never writes it.
exercises = sa.Table(
    "exercises",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    *content_columns(answers=sa.Text, check_mode=sa.String(16)),
    *classification_columns(),
    sa.Column("author_id", sa.String(36), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Column("replicated_at", sa.Float, nullable=False),
    sa.Column("rating_version", sa.Integer, nullable=False, server_default="0"),
)

managers = sa.Table(
    "managers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    *manager_columns(),
    sa.Column("replicated_at", sa.Float, nullable=False),
)

sa.Index("ix_candidates_status", candidates.c.status, candidates.c.created_at)
sa.Index("ix_exercises_subject", exercises.c.subject)
