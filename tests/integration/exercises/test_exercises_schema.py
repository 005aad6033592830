"""The migrations build exactly the tables the code declares, and can be undone."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from teacher_hiring.exercises.adapters.tables import metadata
from teacher_hiring.exercises.bootstrap import MIGRATIONS
from teacher_hiring.runtime.db import make_engine, upgrade_to_head

pytestmark = pytest.mark.integration

# every service has them
MESSAGING_TABLES = {"outbox", "inbox", "runtime_flags", "dead_letter_replays"}
# and the services that issue people's tokens (runtime/refresh_tokens.py)
MESSAGING_TABLES |= {"refresh_tokens"}


def test_the_migrated_schema_matches_the_declared_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine, MIGRATIONS)
    upgrade_to_head(engine, MIGRATIONS)  # idempotent
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    unexpected = [
        diff
        for diff in differences
        if not (diff[0] == "remove_table" and diff[1].name in MESSAGING_TABLES)
        and not (diff[0] == "remove_index" and diff[1].table.name in MESSAGING_TABLES)
    ]
    assert unexpected == []
    engine.dispose()


def test_the_first_migration_can_be_undone(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine, MIGRATIONS)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    with engine.connect() as conn:
        left = set(conn.dialect.get_table_names(conn)) - {"alembic_version"}
    assert left == set()
    engine.dispose()
