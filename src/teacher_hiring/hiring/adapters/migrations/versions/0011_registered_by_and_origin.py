"""Who registered a candidate: `registered_by` (the manager whose token the registration
carried) and `origin` (a keyed hash of the registering client's address), the evidence that
leak reports carry (docs/security.md, "Payments held for review"). Candidates registered before
have neither: their completions count as nobody's own.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("candidates", sa.Column("registered_by", sa.String(36), nullable=True))
    op.add_column("candidates", sa.Column("origin", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("candidates") as batch:
        batch.drop_column("origin")
        batch.drop_column("registered_by")
