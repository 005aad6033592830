"""Alembic environment: migrate on the connection runtime.db.upgrade_to_head hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from teacher_hiring.bonus.adapters.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through runtime.db.upgrade_to_head (it passes a connection)")

context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
