"""Operator flags (link modes, event versions) shared by every instance of the service.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

from teacher_hiring.runtime.flags import create_flags_table, drop_flags_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_flags_table(op)


def downgrade() -> None:
    drop_flags_table(op)
