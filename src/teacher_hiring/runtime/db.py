"""Database engines and migrations, the same for SQLite (one machine) and PostgreSQL."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.compiler import SQLCompiler

READ_ONLY = "teacher_hiring_read_only"
MIGRATION_LOCK = 0x7468_6D69_6772_6174  # "thmigrat": the advisory lock of schema upgrades
_MIGRATION_TURN = text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))")

_readers: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def read_only(engine: Engine) -> Connection:
    """A connection for queries only; a snapshot read that never waits for a writer.

    Use it for every read that feeds a page or a report, so readers never queue behind writers.
    On PostgreSQL its transactions are REPEATABLE READ, READ ONLY: every query of a page sees
    the same snapshot, as on SQLite (READ COMMITTED would give each query its own), a read-only
    transaction never fails to serialize, and a view that tried to write would fail loudly.
    """
    reader = _readers.get(engine, engine)
    if is_sqlite(reader):
        return reader.connect().execution_options(**{READ_ONLY: True})
    return reader.connect().execution_options(
        isolation_level="REPEATABLE READ", postgresql_readonly=True, **{READ_ONLY: True}
    )


def dialect_insert(dialect: str, table: sa.Table) -> Any:
    """An INSERT in the dialect (`conn.dialect.name`) that knows ON CONFLICT, row count kept.

    "0 rows inserted" is how a duplicate shows. SQLAlchemy memoizes the row count of UPDATE
    and DELETE only, and psycopg, unlike sqlite3, has none left once the cursor is closed:
    without preserve_rowcount an INSERT reads -1 there.
    """
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    return statement.execution_options(preserve_rowcount=True)


class DriverStatement:
    """A Core statement compiled once per dialect and run with `exec_driver_sql`.

    For the few statements every submission runs: `Connection.execute` spends about 57 µs a
    statement in SQLAlchemy (cache-key lookup, parameter processing, result set-up) and
    `exec_driver_sql` about 21 (bench on this machine's SQLite), with errors translated and
    dead connections invalidated the same way. Only for statements whose bind parameters are
    all named and whose values need no conversion (str, int, float, bool, bytes, None); rows
    come back as the driver gives them (a boolean is 0 or 1 on SQLite).
    """

    def __init__(self, statement: sa.ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def __call__(self, conn: Connection, params: Mapping[str, Any]) -> sa.CursorResult[Any]:
        compiled = self._compiled.get(conn.dialect.name) or self._compile(conn)
        if missing := compiled.required - params.keys():
            raise KeyError(f"parameters not given: {', '.join(sorted(missing))}")
        values = {**compiled.constants, **params}
        bound: Any = values if compiled.order is None else tuple(values[n] for n in compiled.order)
        return conn.exec_driver_sql(compiled.sql, bound, execution_options=_PRESERVE_ROWCOUNT)

    def _compile(self, conn: Connection) -> _Compiled:
        compiled = cast(SQLCompiler, self.statement.compile(dialect=conn.dialect))
        # sqlite3 takes qmark parameters in order; psycopg's pyformat takes the mapping.
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        # Values written in the statement itself (coalesce(x, 0)) are bound parameters too.
        constants = {name: value for name, value in compiled.params.items() if value is not None}
        required = frozenset(compiled.params) - constants.keys()
        found = _Compiled(compiled.string, order, constants, required)
        self._compiled[conn.dialect.name] = found
        return found


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None
    constants: dict[str, Any]
    required: frozenset[str]


_PRESERVE_ROWCOUNT = {"preserve_rowcount": True}
"""psycopg has no row count left once the cursor is closed (see dialect_insert)."""


def bound_insert(table: sa.Table, columns: Iterable[str]) -> DriverStatement:
    """INSERT of these columns, each bound to the parameter of its name."""
    return DriverStatement(table.insert().values({name: sa.bindparam(name) for name in columns}))


def locks_rows(conn: Connection) -> bool:
    """Whether read-then-write needs row locks here: SQLite runs one writer at a time (every
    write transaction begins IMMEDIATE), PostgreSQL runs them side by side."""
    return conn.dialect.name != "sqlite"


def dispose(engine: Engine) -> None:
    engine.dispose()
    reader = _readers.pop(engine, None)
    if reader is not None:
        reader.dispose()


def make_engine(url: str, *, pool_size: int = 5, background_checkpoints: bool = False) -> Engine:
    """An engine for a service's database.

    On SQLite one process writes through ONE pooled connection: SQLite has a single writer
    anyway, and threads queueing on the pool are woken the moment it is free, whereas threads
    colliding on SQLite's lock back off in sleeps of growing length (throughput collapses under
    load). Reads go through a companion engine of snapshot readers (`read_only`). Every write
    transaction starts with BEGIN IMMEDIATE: a deferred one that upgrades to a write fails at
    once with SQLITE_BUSY in WAL mode when another process wrote in between.

    On PostgreSQL (`postgresql+psycopg://`) writers run concurrently, so one pool serves both:
    `pool_size` connections kept, as many again under bursts (an instance holds at most twice
    `pool_size`; size max_connections for every instance of every service), each checked with
    a ping when taken from the pool, so a server restart costs a reconnect, not failed requests.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=30,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 10} if parsed.get_driver_name() == "psycopg" else {},
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    writer = _sqlite_engine(
        url, pool_size=1, max_overflow=0, autocheckpoint=not background_checkpoints
    )
    _readers[writer] = _sqlite_engine(url, pool_size=pool_size, max_overflow=pool_size)
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
    raw = _readers.get(engine, engine).raw_connection()
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


def _sqlite_engine(
    url: str, *, pool_size: int, max_overflow: int, autocheckpoint: bool = True
) -> Engine:
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=60,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if not autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")  # a WAL snapshot: never waits for writers
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def upgrade_to_head(engine: Engine, script_location: Path) -> None:
    """Bring the service's schema to the newest migration (idempotent).

    On PostgreSQL several instances of a service may start at once: the first takes an
    advisory lock for the migration's transaction, the others wait for it and then find the
    schema at head. (On SQLite, BEGIN IMMEDIATE already makes them take turns.)
    """
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(_MIGRATION_TURN, {"key": MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
