"""SQL that works the same on SQLite and PostgreSQL: dialect-aware inserts, statements run
at the driver, and read-only connections on an engine's snapshot readers."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.compiler import SQLCompiler

READ_ONLY = "teacher_hiring_read_only"
"""The execution option that marks a connection of `read_only` (its transactions never write)."""

_readers: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def pair_reader(writer: Engine, reader: Engine) -> None:
    """Let `read_only(writer)` connect through `reader` (SQLite's snapshot readers)."""
    _readers[writer] = reader


def reader_of(engine: Engine) -> Engine:
    """The engine `read_only` connects through: the writer's reader, or the engine itself."""
    return _readers.get(engine, engine)


def forget_reader(engine: Engine) -> Engine | None:
    """Unpair the engine's reader, returning it (None when it has none)."""
    return _readers.pop(engine, None)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def read_only(engine: Engine) -> Connection:
    """A connection for queries only; a snapshot read that never waits for a writer.

    Use it for every read that feeds a page or a report, so readers never queue behind writers.
    On PostgreSQL its transactions are REPEATABLE READ, READ ONLY: every query of a page sees
    the same snapshot, as on SQLite (READ COMMITTED would give each query its own), a read-only
    transaction never fails to serialize, and a view that tried to write would fail loudly.
    """
    reader = reader_of(engine)
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
        bound = compiled.bind(params)
        return conn.exec_driver_sql(compiled.sql, bound, execution_options=_PRESERVE_ROWCOUNT)

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run the statement once per row in one call to the driver (its executemany); how
        many rows it changed in all. Nothing is run for no rows."""
        if not rows:
            return 0
        compiled = self._compiled.get(conn.dialect.name) or self._compile(conn)
        bound = [compiled.bind(row) for row in rows]
        result = conn.exec_driver_sql(compiled.sql, bound, execution_options=_PRESERVE_ROWCOUNT)
        return int(result.rowcount)

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
    _tuple_of: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = field(
        init=False, default=None, repr=False
    )

    def __post_init__(self) -> None:
        # The qmark tuple of a statement with no constants, straight from the caller's mapping.
        getter = None
        if self.order and not self.constants:
            pick = itemgetter(*self.order)
            getter = pick if len(self.order) > 1 else lambda params: (pick(params),)
        object.__setattr__(self, "_tuple_of", getter)

    def bind(self, params: Mapping[str, Any]) -> Any:
        """The driver's parameters: a tuple in order (qmark), else the mapping (pyformat)."""
        tuple_of: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = self._tuple_of
        if tuple_of is not None:
            try:
                return tuple_of(params)
            except KeyError:
                pass  # named below
        if missing := self.required - params.keys():
            raise KeyError(f"parameters not given: {', '.join(sorted(missing))}")
        values = {**self.constants, **params}
        return values if self.order is None else tuple(values[n] for n in self.order)


_PRESERVE_ROWCOUNT = {"preserve_rowcount": True}
"""psycopg has no row count left once the cursor is closed (see dialect_insert)."""


def bound_insert(table: sa.Table, columns: Iterable[str]) -> DriverStatement:
    """INSERT of these columns, each bound to the parameter of its name."""
    return DriverStatement(table.insert().values({name: sa.bindparam(name) for name in columns}))


def locks_rows(conn: Connection) -> bool:
    """Whether read-then-write needs row locks here: SQLite runs one writer at a time (every
    write transaction begins IMMEDIATE), PostgreSQL runs them side by side."""
    return conn.dialect.name != "sqlite"
