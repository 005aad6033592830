"""Alembic migrations of the bonus database (run by runtime.db.upgrade_to_head)."""
