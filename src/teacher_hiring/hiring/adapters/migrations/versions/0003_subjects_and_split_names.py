"""US-160 and US-170 in hiring's replicas: exercises get a subject and a difficulty, candidates
may ask for a subject, managers have a first and last name and a team.

Existing exercises get the defaults of ExerciseCreated v1 (subject "general", difficulty 3);
an existing manager's name is split at its first run of whitespace, as the v0 -> v1 upcaster
of ManagerCreated splits it; existing candidates keep taking exercises of any subject.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _split(name: str) -> tuple[str, str]:
    parts = name.split(maxsplit=1)
    if not parts:
        return name, ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def upgrade() -> None:
    op.add_column(
        "exercises", sa.Column("subject", sa.String(50), nullable=False, server_default="general")
    )
    op.add_column(
        "exercises", sa.Column("difficulty", sa.Integer, nullable=False, server_default="3")
    )
    op.create_index("ix_exercises_subject", "exercises", ["subject"])
    op.add_column("candidates", sa.Column("subject", sa.String(50), nullable=True))
    op.execute("ALTER TABLE managers RENAME COLUMN name TO first_name")
    op.add_column(
        "managers", sa.Column("last_name", sa.String(200), nullable=False, server_default="")
    )
    op.add_column("managers", sa.Column("team", sa.String(100), nullable=True))
    conn = op.get_bind()
    managers = sa.table(
        "managers",
        sa.column("id", sa.String),
        sa.column("first_name", sa.String),
        sa.column("last_name", sa.String),
    )
    for manager_id, name in conn.execute(sa.select(managers.c.id, managers.c.first_name)).all():
        first_name, last_name = _split(name)
        conn.execute(
            managers.update()
            .where(managers.c.id == manager_id)
            .values(first_name=first_name, last_name=last_name)
        )


def downgrade() -> None:
    managers = sa.table(
        "managers", sa.column("first_name", sa.String), sa.column("last_name", sa.String)
    )
    op.get_bind().execute(
        managers.update()
        .where(managers.c.last_name != "")
        .values(first_name=managers.c.first_name + " " + managers.c.last_name)
    )
    op.execute("ALTER TABLE managers DROP COLUMN team")
    op.execute("ALTER TABLE managers DROP COLUMN last_name")
    op.execute("ALTER TABLE managers RENAME COLUMN first_name TO name")
    op.execute("ALTER TABLE candidates DROP COLUMN subject")
    op.drop_index("ix_exercises_subject", "exercises")
    op.execute("ALTER TABLE exercises DROP COLUMN difficulty")
    op.execute("ALTER TABLE exercises DROP COLUMN subject")
