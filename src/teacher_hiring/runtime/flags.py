"""Operator flags that change a running service without a restart: link modes, event versions.

A flag lives in the service's own database, so every instance of the service sees the same
value and a restart keeps what the operator chose; the settings only give the value before
anyone sets it. Readers (the relay on every pass, request handlers) get a cached value at most
`ttl_s` old: a switch reaches every instance within that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from teacher_hiring.foundation.sql import dialect_insert, read_only

metadata = sa.MetaData()


def flag_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("value", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    ]


runtime_flags = sa.Table("runtime_flags", metadata, *flag_columns())


def create_flags_table(op: object) -> None:
    """Called from a service's Alembic migration (`op` is alembic.op)."""
    op.create_table("runtime_flags", *flag_columns())  # type: ignore[attr-defined]


def drop_flags_table(op: object) -> None:
    op.drop_table("runtime_flags")  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Flag:
    name: str
    value: str
    updated_at: float | None  # None: never set, the value is the settings' default


class RuntimeFlags:
    def __init__(self, engine: Engine, defaults: Mapping[str, str], ttl_s: float = 0.5) -> None:
        self.engine = engine
        self.defaults = dict(defaults)
        self.ttl_s = ttl_s
        self._cache: dict[str, Flag] = {}
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def get(self, name: str) -> str:
        return self.flag(name).value

    def flag(self, name: str) -> Flag:
        if name not in self.defaults:
            raise KeyError(name)
        with self._lock:
            if time.monotonic() - self._read_at > self.ttl_s:
                self._cache = self._read()
                self._read_at = time.monotonic()
            return self._cache[name]

    def all(self) -> list[Flag]:
        return [self.flag(name) for name in sorted(self.defaults)]

    def set(self, name: str, value: str) -> Flag:
        """Stores the value for every instance; this one sees it at once."""
        if name not in self.defaults:
            raise KeyError(name)
        now = time.time()
        store_flag(self.engine, name, value, now)
        with self._lock:
            self._read_at = float("-inf")
        return Flag(name, value, now)

    def _read(self) -> dict[str, Flag]:
        flags = {name: Flag(name, value, None) for name, value in self.defaults.items()}
        with read_only(self.engine) as conn:
            for row in conn.execute(sa.select(runtime_flags)):
                if row.name in flags:
                    flags[row.name] = Flag(row.name, row.value, row.updated_at)
        return flags


def store_flag(engine: Engine, name: str, value: str, at: float) -> None:
    """Insert or overwrite one row of runtime_flags, in a transaction of its own."""
    with engine.begin() as conn:
        insert = dialect_insert(conn.dialect.name, runtime_flags).values(
            name=name, value=value, updated_at=at
        )
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=[runtime_flags.c.name],
                set_={"value": value, "updated_at": at},
            )
        )
