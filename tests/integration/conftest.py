"""Fixtures shared by the integration suites: PostgreSQL next to SQLite (see postgres_server)."""

from integration.postgres_server import (
    database_url,
    postgres_admin,
    postgres_database,
    postgres_server,
    postgres_url,
)

__all__ = ["database_url", "postgres_admin", "postgres_database", "postgres_server", "postgres_url"]
