"""A manager as exercises' manager events carry them (ManagerCreated, ManagerUpdated v1), kept
by every service that holds a copy: exercises owns them, hiring and bonus replicate them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def manager_columns() -> list[sa.Column[Any]]:
    """The manager's own fields as table columns, for each service's `managers` table beside
    its key and its time stamps. US-170 split the name in every copy at once; so would the
    next change."""
    return [
        sa.Column("first_name", sa.String(200), nullable=False),
        sa.Column("last_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("email", sa.String(320), nullable=False),
    ]
