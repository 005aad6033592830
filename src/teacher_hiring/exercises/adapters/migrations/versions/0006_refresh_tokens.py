"""People's refresh tokens, kept hashed (runtime/refresh_tokens.py, docs/security.md).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from teacher_hiring.runtime.refresh_tokens import create_refresh_table, drop_refresh_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_refresh_table(op)


def downgrade() -> None:
    drop_refresh_table(op)
