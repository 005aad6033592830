"""People's refresh tokens, kept hashed (runtime/refresh_tokens.py, docs/security.md).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from teacher_hiring.runtime.refresh_tokens import create_refresh_table, drop_refresh_table

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_refresh_table(op)


def downgrade() -> None:
    drop_refresh_table(op)
