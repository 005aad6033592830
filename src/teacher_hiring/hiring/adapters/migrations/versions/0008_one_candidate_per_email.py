"""One candidate per email: `candidates.email_key` (the email trimmed and lowercased), unique.

Existing duplicates (two registrations whose emails differ only in case or surrounding spaces,
made before this revision) are kept, accounts, submissions and money untouched: the earliest
registration (by created_at, then id) holds the plain key, so registering that email again is
refused; each later one gets the key `<key>#duplicate-<candidate id>`, which no email can
equal, and an operator finds them with `email_key LIKE '%#duplicate-%'` (docs/security.md).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DUPLICATE = "#duplicate-"


def upgrade() -> None:
    op.add_column("candidates", sa.Column("email_key", sa.String(400), nullable=True))
    candidates = sa.table(
        "candidates",
        sa.column("id", sa.String),
        sa.column("email", sa.String),
        sa.column("email_key", sa.String),
        sa.column("created_at", sa.Float),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(candidates.c.id, candidates.c.email).order_by(
            candidates.c.created_at, candidates.c.id
        )
    ).all()
    taken: set[str] = set()
    for candidate_id, email in rows:
        key = email.strip().lower()
        if key in taken:
            key = f"{key}{DUPLICATE}{candidate_id}"
        taken.add(key)
        conn.execute(
            candidates.update().where(candidates.c.id == candidate_id).values(email_key=key)
        )
    with op.batch_alter_table("candidates") as batch:
        batch.alter_column("email_key", existing_type=sa.String(400), nullable=False)
    op.create_index("uq_candidates_email_key", "candidates", ["email_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_candidates_email_key", table_name="candidates")
    with op.batch_alter_table("candidates") as batch:
        batch.drop_column("email_key")
