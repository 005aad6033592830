"""Every write of the bonus service, and the few reads its handlers need.

Each write is one `INSERT ... ON CONFLICT` so that a duplicate is a constraint hit meaning
"already done", on SQLite and PostgreSQL alike (a failed plain INSERT would abort a PostgreSQL
transaction). The statements are built once per dialect; only their parameters change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection

from teacher_hiring.bonus.adapters.tables import accounts, ledger, managers, ratings
from teacher_hiring.bonus.domain.model import LedgerEntry, Manager
from teacher_hiring.bonus.domain.rating import Rating
from teacher_hiring.bonus.service_layer.ports import StoredEffect
from teacher_hiring.foundation.sql import DriverStatement, dialect_insert


@dataclass(frozen=True, slots=True)
class _Statements:
    open_account: sa.Insert
    append_entry: sa.Insert
    save_rating: sa.Insert
    save_manager: sa.Insert
    # PostgreSQL only: open_account and append_entry as one statement (one round trip).
    open_and_append: sa.Insert | None


@cache
def _statements(dialect: str) -> _Statements:
    rating = dialect_insert(dialect, ratings)
    manager = dialect_insert(dialect, managers)
    open_account = dialect_insert(dialect, accounts).on_conflict_do_nothing(
        index_elements=[accounts.c.manager_id]
    )
    append_entry = dialect_insert(dialect, ledger).on_conflict_do_nothing(
        index_elements=[ledger.c.business_key]
    )
    open_and_append = None
    if dialect == "postgresql":
        # A data-modifying WITH runs once and to completion whatever the main INSERT does, so
        # the account is opened even when the entry is a duplicate: the two statements' effect.
        opened = open_account.values(
            manager_id=sa.bindparam("account_manager_id"),
            opened_at=sa.bindparam("account_opened_at"),
        ).cte("opened")
        open_and_append = append_entry.add_cte(opened)
    return _Statements(
        open_account=open_account,
        append_entry=append_entry,
        open_and_append=open_and_append,
        save_rating=rating.on_conflict_do_update(
            index_elements=[ratings.c.exercise_id],
            set_={c.name: rating.excluded[c.name] for c in ratings.c if not c.primary_key},
            # The "newer rating wins" rule again, so concurrent writers cannot break it either.
            where=ratings.c.rating_version < rating.excluded.rating_version,
        ),
        save_manager=manager.on_conflict_do_update(
            index_elements=[managers.c.manager_id],
            set_={c.name: manager.excluded[c.name] for c in managers.c if not c.primary_key},
            where=managers.c.as_of <= manager.excluded.as_of,
        ),
    )


_LEDGER_COLUMNS = (
    "manager_id",
    "kind",
    "amount_cents",
    "business_key",
    "source_event_id",
    "source_event_name",
    "source_producer",
    "trace_id",
    "occurred_at",
    "recorded_at",
    "details",
)
_OPEN_ACCOUNTS = {
    dialect: DriverStatement(
        dialect_insert(dialect, accounts)
        .values(manager_id=sa.bindparam("manager_id"), opened_at=sa.bindparam("opened_at"))
        .on_conflict_do_nothing(index_elements=[accounts.c.manager_id])
    )
    for dialect in ("sqlite", "postgresql")
}
_APPEND_ENTRIES = {
    dialect: DriverStatement(
        dialect_insert(dialect, ledger)
        .values({name: sa.bindparam(name) for name in _LEDGER_COLUMNS})
        .on_conflict_do_nothing(index_elements=[ledger.c.business_key])
    )
    for dialect in ("sqlite", "postgresql")
}
"""The two statements of a money event, run at the driver (foundation.sql): through
`Connection.execute` SQLAlchemy spent more per event than SQLite writing the row, and encoded
`details` with the standard library's json; here orjson encodes it, once. A batch of events
(`append_many`) runs each once for the whole batch through the driver's executemany. One
event on SQLite runs them one after the other; on PostgreSQL, `open_and_append` does both in
one round trip."""
_SQLITE_OPEN_ACCOUNT = _OPEN_ACCOUNTS["sqlite"]
_SQLITE_APPEND = _APPEND_ENTRIES["sqlite"]
_EFFECTS_UNDER_KEYS = sa.select(
    ledger.c.business_key, ledger.c.manager_id, ledger.c.amount_cents, ledger.c.source_event_id
).where(ledger.c.business_key.in_(sa.bindparam("keys", expanding=True)))


_RATING_COLUMNS = tuple(c.name for c in ratings.c)


def _save_ratings(dialect: str) -> DriverStatement:
    insert = dialect_insert(dialect, ratings).values(
        {name: sa.bindparam(name) for name in _RATING_COLUMNS}
    )
    return DriverStatement(
        insert.on_conflict_do_update(
            index_elements=[ratings.c.exercise_id],
            set_={c.name: insert.excluded[c.name] for c in ratings.c if not c.primary_key},
            where=ratings.c.rating_version < insert.excluded.rating_version,
        )
    )


_SAVE_RATINGS = {dialect: _save_ratings(dialect) for dialect in ("sqlite", "postgresql")}
"""`save_rating` for a batch of ratings, one executemany (`save_ratings`)."""
_RATING_VERSIONS = sa.select(ratings.c.exercise_id, ratings.c.rating_version).where(
    ratings.c.exercise_id.in_(sa.bindparam("ids", expanding=True))
)


def _entry_values(entry: LedgerEntry, recorded_at: str) -> dict[str, Any]:
    return {
        "manager_id": entry.manager_id,
        "kind": entry.kind.value,
        "amount_cents": entry.amount_cents,
        "business_key": entry.business_key,
        "source_event_id": entry.source.event_id,
        "source_event_name": entry.source.event_name,
        "source_producer": entry.source.producer,
        "trace_id": entry.source.trace_id,
        "occurred_at": entry.occurred_at,
        "recorded_at": recorded_at,
        "details": entry.details,
    }


class BonusRepository:
    """The SQL of `ports.Repository`, on one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._sql = _statements(conn.dialect.name)
        self._sqlite = conn.dialect.name == "sqlite"

    # -- accounts and ledger -------------------------------------------------------------------

    def open_account(self, manager_id: str, opened_at: str) -> bool:
        """Open the account unless it exists; True if this call opened it."""
        params = {"manager_id": manager_id, "opened_at": opened_at}
        if self._sqlite:
            return _SQLITE_OPEN_ACCOUNT(self.conn, params).rowcount == 1
        result = self.conn.execute(self._sql.open_account, params)
        return result.rowcount == 1

    def append(self, entry: LedgerEntry, recorded_at: str) -> bool:
        """Append the entry; False if its business key is already in the ledger."""
        if self._sqlite:
            values = _entry_values(entry, recorded_at)
            values["details"] = orjson.dumps(entry.details).decode()
            return _SQLITE_APPEND(self.conn, values).rowcount == 1
        return self._append(self._sql.append_entry, entry, recorded_at, {})

    def open_account_and_append(self, entry: LedgerEntry, now: str) -> bool:
        """open_account(entry's manager) then append(entry), in one statement where the
        database allows it; False if the business key is already in the ledger."""
        if self._sql.open_and_append is None:
            self.open_account(entry.manager_id, now)
            return self.append(entry, now)
        account = {"account_manager_id": entry.manager_id, "account_opened_at": now}
        return self._append(self._sql.open_and_append, entry, now, account)

    def append_many(self, entries: Sequence[LedgerEntry], recorded_at: Sequence[str]) -> int:
        """Open the entries' accounts unless they exist, then append the entries in order,
        each unless its business key is in the ledger by then (an earlier entry of the same
        batch included); how many were appended. `recorded_at[i]` is entry i's.

        Two statements for the whole batch. The accounts are opened in manager order, so two
        PostgreSQL writers of the same new accounts wait for each other instead of
        deadlocking.
        """
        opened: dict[str, str] = {}
        rows = []
        for entry, at in zip(entries, recorded_at, strict=True):
            opened.setdefault(entry.manager_id, at)
            values = _entry_values(entry, at)
            values["details"] = orjson.dumps(entry.details).decode()
            rows.append(values)
        dialect = self.conn.dialect.name
        _OPEN_ACCOUNTS[dialect].many(
            self.conn,
            [{"manager_id": manager, "opened_at": opened[manager]} for manager in sorted(opened)],
        )
        return _APPEND_ENTRIES[dialect].many(self.conn, rows)

    def effects_under_keys(self, business_keys: Iterable[str]) -> dict[str, StoredEffect]:
        """What the ledger holds under each of the business keys it holds."""
        rows = self.conn.execute(_EFFECTS_UNDER_KEYS, {"keys": sorted(set(business_keys))})
        return {row[0]: StoredEffect(row[1], int(row[2]), row[3]) for row in rows}

    def _append(
        self, statement: sa.Insert, entry: LedgerEntry, recorded_at: str, extra: dict[str, str]
    ) -> bool:
        result = self.conn.execute(statement, {**extra, **_entry_values(entry, recorded_at)})
        return result.rowcount == 1

    def effect_under(self, business_key: str) -> StoredEffect | None:
        row = self.conn.execute(
            sa.select(ledger.c.manager_id, ledger.c.amount_cents, ledger.c.source_event_id).where(
                ledger.c.business_key == business_key
            )
        ).first()
        return None if row is None else StoredEffect(row[0], int(row[1]), row[2])

    # -- ratings -------------------------------------------------------------------------------

    def rating_version(self, exercise_id: str) -> int | None:
        version = self.conn.execute(
            sa.select(ratings.c.rating_version).where(ratings.c.exercise_id == exercise_id)
        ).scalar_one_or_none()
        return None if version is None else int(version)

    def rating_versions(self, exercise_ids: Iterable[str]) -> dict[str, int]:
        """The rating_version held of each of the exercises that has a rating."""
        rows = self.conn.execute(_RATING_VERSIONS, {"ids": sorted(set(exercise_ids))})
        return {row[0]: int(row[1]) for row in rows}

    def save_ratings(self, ratings: Sequence[Rating]) -> None:
        """save_rating of each, in order, in one executemany."""
        rows = [{name: getattr(r, name) for name in _RATING_COLUMNS} for r in ratings]
        _SAVE_RATINGS[self.conn.dialect.name].many(self.conn, rows)

    def save_rating(self, rating: Rating) -> bool:
        """Insert or replace with a newer rating_version; False if the stored one is not older."""
        result = self.conn.execute(
            self._sql.save_rating,
            {
                "exercise_id": rating.exercise_id,
                "exercise_version": rating.exercise_version,
                "rating": rating.rating,
                "rating_version": rating.rating_version,
                "attempted_candidates": rating.attempted_candidates,
                "failed_first_attempts": rating.failed_first_attempts,
                "changed_at": rating.changed_at,
            },
        )
        return result.rowcount == 1

    # -- managers replica ----------------------------------------------------------------------

    def save_manager(self, manager_id: str, manager: Manager, as_of: str) -> bool:
        """Insert or update unless the replica already holds newer data."""
        result = self.conn.execute(
            self._sql.save_manager,
            {
                "manager_id": manager_id,
                "first_name": manager.first_name,
                "last_name": manager.last_name,
                "team": manager.team,
                "email": manager.email,
                "as_of": as_of,
            },
        )
        return result.rowcount == 1
