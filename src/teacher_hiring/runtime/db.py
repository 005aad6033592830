"""Database engines and migrations, the same for SQLite (one machine) and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from teacher_hiring.foundation.sql import (
    READ_ONLY,
    forget_reader,
    is_sqlite,
    pair_reader,
    reader_of,
)

MIGRATION_LOCK = 0x7468_6D69_6772_6174  # "thmigrat": the advisory lock of schema upgrades


class UnknownSchemaRevision(RuntimeError):
    """The database was migrated by a newer version of the platform than this one."""


_MIGRATION_TURN = text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))")


def dispose(engine: Engine) -> None:
    engine.dispose()
    reader = forget_reader(engine)
    if reader is not None:
        reader.dispose()


def make_engine(url: str, *, pool_size: int = 5, background_checkpoints: bool = False) -> Engine:
    """An engine for a service's database.

    On SQLite one process writes through ONE pooled connection: SQLite has a single writer
    anyway, and threads queueing on the pool are woken the moment it is free, whereas threads
    colliding on SQLite's lock back off in sleeps of growing length (throughput collapses under
    load). Reads go through a companion engine of snapshot readers (`foundation.sql.read_only`).
    Every write transaction starts with BEGIN IMMEDIATE: a deferred one that upgrades to a write
    fails at once with SQLITE_BUSY in WAL mode when another process wrote in between.

    On PostgreSQL (`postgresql+psycopg://`) writers run concurrently, so one pool serves both:
    `pool_size` connections kept, as many again under bursts (an instance holds at most twice
    `pool_size`; size max_connections for every instance of every service), each checked with
    a ping when taken from the pool, so a server restart costs a reconnect, not failed requests.

    Either way a failed statement's error leaves out its parameters (names, e-mail addresses,
    answers): its text ends up in logs and dead letters (docs/security.md).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=30,
            pool_pre_ping=True,
            hide_parameters=True,  # a failed statement's text goes to logs and dead letters
            connect_args={"connect_timeout": 10} if parsed.get_driver_name() == "psycopg" else {},
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    writer = _sqlite_engine(
        url, pool_size=1, max_overflow=0, autocheckpoint=not background_checkpoints
    )
    pair_reader(writer, _sqlite_engine(url, pool_size=pool_size, max_overflow=pool_size))
    return writer


WAL_RESTART_FRAMES = 16384
"""WAL frames (pages written since the WAL last started over; 64 MiB of 4 KiB pages) past
which a checkpoint makes it start over: about once a minute at 300 submissions/s."""
RESTART_WAIT_MS = 50
BUSY_TIMEOUT_MS = 30000


def checkpoint(engine: Engine) -> None:
    """Copy the WAL back into the database file, off the request path.

    Left to SQLite, the commit that crosses the WAL's size limit does the checkpoint and its
    fsync itself: a request that pays ~10 ms now and then. Services call this from a background
    thread instead (ServiceRuntime), and the writer connection never checkpoints on its own.
    PASSIVE never waits for, nor blocks, the writer. But a WAL starts over from its beginning
    only when no reader is using it, and under steady traffic some snapshot reader always is:
    the WAL then grows for as long as the traffic lasts (700 MB in a 10-minute benchmark), and
    every page read searches its index, which grows with it, so requests slow down the longer
    the service runs. Past WAL_RESTART_FRAMES a RESTART checkpoint waits for the readers of
    the moment to finish (requests' snapshots last milliseconds; writers wait meanwhile), and
    the next commit starts the WAL over.
    """
    if not is_sqlite(engine):
        return
    # On a DBAPI connection of the readers, outside any transaction: a checkpoint run inside
    # one would wait for that transaction's own snapshot.
    raw = reader_of(engine).raw_connection()
    try:
        cursor = raw.cursor()
        _busy, frames, _copied = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames >= WAL_RESTART_FRAMES:
            # Writers wait while it waits for the readers: at most RESTART_WAIT_MS, and if a
            # long read is still going then, it gives up until the next turn.
            cursor.execute(f"PRAGMA busy_timeout={RESTART_WAIT_MS}")
            try:
                cursor.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            finally:
                cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()
    finally:
        raw.close()


BEGIN_WRITE = "BEGIN IMMEDIATE"
"""How every write transaction on SQLite begins (see make_engine)."""
BEGIN_READ = "BEGIN"


def configure_sqlite(dbapi_conn: Any, *, autocheckpoint: bool = True) -> None:
    """The settings of every SQLite connection of a service, on a sqlite3 connection: WAL,
    synchronous=NORMAL, foreign keys, the busy timeout, transactions begun explicitly."""
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    if not autocheckpoint:
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def _sqlite_engine(
    url: str, *, pool_size: int, max_overflow: int, autocheckpoint: bool = True
) -> Engine:
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=60,
        hide_parameters=True,  # a failed statement's text goes to logs and dead letters
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        configure_sqlite(dbapi_conn, autocheckpoint=autocheckpoint)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql(BEGIN_READ)  # a WAL snapshot: never waits for writers
        else:
            conn.exec_driver_sql(BEGIN_WRITE)

    return engine


def upgrade_to_head(engine: Engine, script_location: Path) -> None:
    """Bring the service's schema to the newest migration (idempotent).

    On PostgreSQL several instances of a service may start at once: the first takes an
    advisory lock for the migration's transaction, the others wait for it and then find the
    schema at head. (On SQLite, BEGIN IMMEDIATE already makes them take turns.)
    """
    config = Config()
    config.set_main_option("script_location", str(script_location))
    # The options are configparser values, where "%" starts an interpolation: a URL's escapes
    # (sslrootcert=%2Ftmp%2F...) are doubled to stay themselves.
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(_MIGRATION_TURN, {"key": MIGRATION_LOCK})
        config.attributes["connection"] = conn
        try:
            command.upgrade(config, "head")
        except CommandError as exc:
            raise _unknown_revision(engine, config, exc) from exc


def _unknown_revision(engine: Engine, config: Config, exc: CommandError) -> Exception:
    """Name the database and what to do, when its revision is one this version never had."""
    unknown = re.search(r"Can't locate revision identified by '([^']*)'", str(exc))
    if unknown is None:
        return exc
    head = ScriptDirectory.from_config(config).get_current_head()
    return UnknownSchemaRevision(
        f"database {engine.url.database!r} is at schema revision {unknown[1]}, which this "
        f"version of the platform does not know (its newest is {head}): a newer version "
        "migrated it. Run that version, "
        "restore a backup taken before the upgrade, or point the service at another database."
    )
