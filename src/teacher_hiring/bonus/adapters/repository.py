"""Every write of the bonus service, and the few reads its handlers need.

Each write is one `INSERT ... ON CONFLICT` so that a duplicate is a constraint hit meaning
"already done", on SQLite and PostgreSQL alike (a failed plain INSERT would abort a PostgreSQL
transaction). The statements are built once per dialect; only their parameters change.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from sqlalchemy import Connection

from teacher_hiring.bonus.adapters.tables import accounts, ledger, managers, ratings
from teacher_hiring.bonus.domain.model import LedgerEntry, Manager, Rating
from teacher_hiring.runtime.db import dialect_insert


@dataclass(frozen=True, slots=True)
class StoredEffect:
    """What the ledger already holds under a business key."""

    manager_id: str
    amount_cents: int
    source_event_id: str


@dataclass(frozen=True, slots=True)
class _Statements:
    open_account: sa.Insert
    append_entry: sa.Insert
    save_rating: sa.Insert
    save_manager: sa.Insert


@cache
def _statements(dialect: str) -> _Statements:
    rating = dialect_insert(dialect, ratings)
    manager = dialect_insert(dialect, managers)
    return _Statements(
        open_account=dialect_insert(dialect, accounts).on_conflict_do_nothing(
            index_elements=[accounts.c.manager_id]
        ),
        append_entry=dialect_insert(dialect, ledger).on_conflict_do_nothing(
            index_elements=[ledger.c.business_key]
        ),
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


class BonusRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._sql = _statements(conn.dialect.name)

    # -- accounts and ledger -------------------------------------------------------------------

    def open_account(self, manager_id: str, opened_at: str) -> bool:
        """Open the account unless it exists; True if this call opened it."""
        result = self.conn.execute(
            self._sql.open_account, {"manager_id": manager_id, "opened_at": opened_at}
        )
        return result.rowcount == 1

    def append(self, entry: LedgerEntry, recorded_at: str) -> bool:
        """Append the entry; False if its business key is already in the ledger."""
        result = self.conn.execute(
            self._sql.append_entry,
            {
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
            },
        )
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
                "name": manager.name,
                "email": manager.email,
                "as_of": as_of,
            },
        )
        return result.rowcount == 1
