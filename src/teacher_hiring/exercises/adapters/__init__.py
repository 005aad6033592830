"""Storage: tables, the repository, read views and the Alembic migrations."""
