"""Each service's database on SQLite and PostgreSQL: migrations, concurrent starts, readers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from teacher_hiring.bonus.adapters.tables import metadata as bonus_tables
from teacher_hiring.bonus.bootstrap import MIGRATIONS as BONUS
from teacher_hiring.exercises.adapters.tables import metadata as exercises_tables
from teacher_hiring.exercises.bootstrap import MIGRATIONS as EXERCISES
from teacher_hiring.foundation.sql import read_only
from teacher_hiring.hiring.adapters.tables import metadata as hiring_tables
from teacher_hiring.hiring.bootstrap import MIGRATIONS as HIRING
from teacher_hiring.messaging.dead_letter_replays import dead_letter_replays
from teacher_hiring.messaging.tables import metadata as messaging_tables
from teacher_hiring.runtime.db import UnknownSchemaRevision, dispose, make_engine, upgrade_to_head
from teacher_hiring.runtime.flags import runtime_flags
from teacher_hiring.runtime.refresh_tokens import refresh_tokens

pytestmark = pytest.mark.integration

SERVICES = {
    "exercises": (EXERCISES, exercises_tables),
    "hiring": (HIRING, hiring_tables),
    "bonus": (BONUS, bonus_tables),
}


ISSUERS = {"exercises", "hiring"}
"""The services that hand people their tokens, with a table of refresh tokens."""


def declared(service_tables: sa.MetaData, service: str) -> sa.MetaData:
    """The service's tables with those every service has: outbox, inbox, runtime flags, dead
    letter replays; and an issuer's refresh tokens."""
    everything = sa.MetaData()
    if service in ISSUERS:
        refresh_tokens.to_metadata(everything)
    for table in service_tables.tables.values():
        table.to_metadata(everything)
    for name in ("outbox", "inbox"):
        messaging_tables.tables[name].to_metadata(everything)
    runtime_flags.to_metadata(everything)
    dead_letter_replays.to_metadata(everything)
    return everything


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_the_migrated_schema_is_the_declared_one_and_upgrading_again_changes_nothing(
    service: str, database_url: str
) -> None:
    migrations, tables = SERVICES[service]
    engine = make_engine(database_url)
    try:
        upgrade_to_head(engine, migrations)
        upgrade_to_head(engine, migrations)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, declared(tables, service)) == []
        with read_only(engine) as conn:  # readers work on every backend
            assert conn.execute(sa.text("SELECT count(*) FROM outbox")).scalar_one() == 0
    finally:
        dispose(engine)


@pytest.mark.postgres
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_instances_starting_at_once_migrate_once(service: str, postgres_url: str) -> None:
    """Each instance runs upgrade_to_head at start; the advisory lock makes them take turns."""
    migrations, _ = SERVICES[service]
    engines = [make_engine(postgres_url) for _ in range(3)]
    start = threading.Barrier(len(engines))
    failures: list[BaseException] = []

    def start_instance(engine: sa.Engine) -> None:
        start.wait()
        try:
            upgrade_to_head(engine, migrations)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=start_instance, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert failures == []
        with engines[0].connect() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert len(versions) == 1
    finally:
        for engine in engines:
            dispose(engine)


@pytest.mark.postgres
def test_a_read_only_connection_on_postgres_reads_one_snapshot_and_refuses_writes(
    postgres_url: str,
) -> None:
    engine, other_instance = make_engine(postgres_url, pool_size=1), make_engine(postgres_url)
    try:
        upgrade_to_head(engine, Path(BONUS))
        with read_only(engine) as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM accounts")).scalar_one() == 0
            with other_instance.begin() as writer:  # commits while the page is being read
                writer.execute(sa.text("INSERT INTO accounts VALUES ('m', 'now')"))
            assert conn.execute(sa.text("SELECT count(*) FROM accounts")).scalar_one() == 0
            with pytest.raises(sa.exc.InternalError, match="read-only"):
                conn.execute(sa.text("INSERT INTO accounts VALUES ('n', 'now')"))
        with engine.begin() as conn:  # the same pooled connection, writable again
            conn.execute(sa.text("INSERT INTO accounts VALUES ('n', 'now')"))
            assert conn.execute(sa.text("SELECT count(*) FROM accounts")).scalar_one() == 2
    finally:
        dispose(engine)
        dispose(other_instance)


def test_a_database_a_newer_version_migrated_is_refused_by_name_with_what_to_do(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_to_head(engine, HIRING)
        with engine.begin() as conn:  # as a later version's migration would leave it
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0999'"))
        with pytest.raises(UnknownSchemaRevision) as refused:
            upgrade_to_head(engine, HIRING)
        assert f"database {engine.url.database!r} is at schema revision 0999" in str(refused.value)
        assert "a newer version migrated it" in str(refused.value)
        with engine.connect() as conn:  # nothing was changed
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
            assert version == "0999"
    finally:
        dispose(engine)
