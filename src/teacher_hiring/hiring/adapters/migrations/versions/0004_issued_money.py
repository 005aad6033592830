"""The money this service issued, kept after sending for reconciliation (money/issued.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from teacher_hiring.money.issued import create_issued_money_table, drop_issued_money_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_issued_money_table(op)


def downgrade() -> None:
    drop_issued_money_table(op)
