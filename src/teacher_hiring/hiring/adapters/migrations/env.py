"""Alembic environment: runs on the connection runtime.db.upgrade_to_head hands over."""

from __future__ import annotations

from alembic import context

from teacher_hiring.hiring.adapters.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through teacher_hiring.runtime.db.upgrade_to_head")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
