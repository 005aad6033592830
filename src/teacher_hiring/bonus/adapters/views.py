"""Read-only queries behind the GET routes; balances are always sums over the ledger.

`BonusViews` is what the read handlers see as `ports.Views` (and reconciliation as
`ports.LedgerReads`), on the unit of work's connection.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from teacher_hiring.bonus.adapters.tables import accounts, ledger, managers, ratings
from teacher_hiring.bonus.domain.model import EntryKind, EventSource, Manager, RecordedEntry
from teacher_hiring.bonus.domain.rating import Rating
from teacher_hiring.bonus.service_layer.ports import Views
from teacher_hiring.bonus.service_layer.results import AccountOverview, BalancePoint
from teacher_hiring.foundation.pages import Window
from teacher_hiring.messaging.unit_of_work import UnitOfWork

_MANAGER_COLUMNS = (managers.c.first_name, managers.c.last_name, managers.c.team, managers.c.email)


def _replicated(
    first_name: str | None, last_name: str | None, team: str | None, email: str | None
) -> Manager | None:
    """The replica's manager; None when the replica lacks them."""
    if first_name is None or email is None:
        return None
    return Manager(first_name, last_name or "", email, team)


def _cents(kind: EntryKind) -> sa.ColumnElement[Any]:
    """Sum of one kind's amounts, as a positive number (fines are stored negative)."""
    signed = sa.func.coalesce(
        sa.func.sum(sa.case((ledger.c.kind == kind.value, ledger.c.amount_cents), else_=0)), 0
    )
    return (-signed if kind is EntryKind.FINE else signed).label(f"{kind.value}_cents")


def _count(kind: EntryKind) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(
        sa.func.sum(sa.case((ledger.c.kind == kind.value, 1), else_=0)), 0
    ).label(f"{kind.value}_count")


def _per_account() -> sa.Select[Any]:
    """One row per account, with its sums and counts per kind, in one grouped query."""
    return (
        sa.select(
            accounts.c.manager_id,
            accounts.c.opened_at,
            *_MANAGER_COLUMNS,
            sa.func.coalesce(sa.func.sum(ledger.c.amount_cents), 0).label("balance_cents"),
            sa.func.count(ledger.c.id).label("entries"),
            *(_cents(kind) for kind in EntryKind),
            *(_count(kind) for kind in EntryKind),
        )
        .select_from(
            accounts.outerjoin(ledger, ledger.c.manager_id == accounts.c.manager_id).outerjoin(
                managers, managers.c.manager_id == accounts.c.manager_id
            )
        )
        .group_by(accounts.c.manager_id, accounts.c.opened_at, *_MANAGER_COLUMNS)
        .order_by(accounts.c.manager_id)
    )


_SUMS = tuple(f"{kind.value}_{what}" for what in ("cents", "count") for kind in EntryKind)


def _account_row(row: sa.RowMapping) -> AccountOverview:
    return AccountOverview(
        manager_id=row["manager_id"],
        manager=_replicated(*(row[column.name] for column in _MANAGER_COLUMNS)),
        opened_at=row["opened_at"],
        balance_cents=int(row["balance_cents"]),
        entries=int(row["entries"]),
        **{name: int(row[name]) for name in _SUMS},
    )


_ENTRY_COLUMNS = (
    ledger.c.id,
    ledger.c.manager_id,
    ledger.c.kind,
    ledger.c.amount_cents,
    ledger.c.business_key,
    ledger.c.occurred_at,
    ledger.c.recorded_at,
    ledger.c.source_event_id,
    ledger.c.source_event_name,
    ledger.c.source_producer,
    ledger.c.trace_id,
    ledger.c.details,
)


def _entry(data: sa.RowMapping) -> RecordedEntry:
    return RecordedEntry(
        manager_id=data["manager_id"],
        kind=EntryKind(data["kind"]),
        amount_cents=int(data["amount_cents"]),
        business_key=data["business_key"],
        occurred_at=data["occurred_at"],
        source=EventSource(
            event_id=data["source_event_id"],
            event_name=data["source_event_name"],
            producer=data["source_producer"],
            trace_id=data["trace_id"],
        ),
        details=data["details"],
        id=int(data["id"]),
        recorded_at=data["recorded_at"],
    )


def _filter(manager_id: str, kind: EntryKind | None) -> list[sa.ColumnElement[bool]]:
    conditions = [ledger.c.manager_id == manager_id]
    if kind is not None:
        conditions.append(ledger.c.kind == kind.value)
    return conditions


class BonusViews:
    """The reads of the pages (`ports.Views`) and of reconciliation (`ports.LedgerReads`) on
    one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- accounts ------------------------------------------------------------------------------

    def all_accounts(self) -> list[AccountOverview]:
        """Every account with its balance, credits, debits and counts per kind."""
        return [_account_row(row) for row in self.conn.execute(_per_account()).mappings()]

    def account(self, manager_id: str) -> AccountOverview | None:
        query = _per_account().where(accounts.c.manager_id == manager_id)
        row = self.conn.execute(query).mappings().first()
        return None if row is None else _account_row(row)

    def has_account(self, manager_id: str) -> bool:
        query = sa.select(accounts.c.manager_id).where(accounts.c.manager_id == manager_id)
        return self.conn.execute(query).first() is not None

    def manager(self, manager_id: str) -> Manager | None:
        query = sa.select(*_MANAGER_COLUMNS).where(managers.c.manager_id == manager_id)
        row = self.conn.execute(query).first()
        return None if row is None else _replicated(*row)

    # -- entries -------------------------------------------------------------------------------

    def entries(
        self, manager_id: str, *, limit: int, offset: int, kind: EntryKind | None
    ) -> list[RecordedEntry]:
        """Newest first (by when it happened, then by arrival)."""
        query = (
            sa.select(*_ENTRY_COLUMNS)
            .where(*_filter(manager_id, kind))
            .order_by(ledger.c.occurred_at.desc(), ledger.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [_entry(row) for row in self.conn.execute(query).mappings()]

    def count_entries(self, manager_id: str, kind: EntryKind | None) -> int:
        query = sa.select(sa.func.count()).select_from(ledger).where(*_filter(manager_id, kind))
        return int(self.conn.execute(query).scalar_one())

    def balance_before(self, manager_id: str, moment: str) -> int:
        query = sa.select(sa.func.coalesce(sa.func.sum(ledger.c.amount_cents), 0)).where(
            ledger.c.manager_id == manager_id, ledger.c.occurred_at < moment
        )
        return int(self.conn.execute(query).scalar_one())

    def balance_history(self, manager_id: str, limit: int) -> list[BalancePoint]:
        """The balance after each of the account's newest `limit` entries, oldest first."""
        order = (ledger.c.occurred_at, ledger.c.id)
        running = sa.func.sum(ledger.c.amount_cents).over(order_by=order)
        steps = (
            sa.select(
                ledger.c.id,
                ledger.c.occurred_at,
                ledger.c.kind,
                ledger.c.amount_cents,
                running.label("balance_cents"),
            )
            .where(ledger.c.manager_id == manager_id)
            .subquery()
        )
        newest = steps.c.occurred_at.desc(), steps.c.id.desc()
        query = sa.select(steps).order_by(*newest).limit(limit)
        rows = list(self.conn.execute(query).mappings())
        return [
            BalancePoint(
                at=row["occurred_at"],
                kind=EntryKind(row["kind"]),
                amount_cents=int(row["amount_cents"]),
                balance_cents=int(row["balance_cents"]),
            )
            for row in reversed(rows)
        ]

    def entries_between(self, manager_id: str, start: str, end: str) -> list[RecordedEntry]:
        """Entries that occurred in [start, end), oldest first, as a statement reads."""
        query = (
            sa.select(*_ENTRY_COLUMNS)
            .where(
                ledger.c.manager_id == manager_id,
                ledger.c.occurred_at >= start,
                ledger.c.occurred_at < end,
            )
            .order_by(ledger.c.occurred_at, ledger.c.id)
        )
        return [_entry(row) for row in self.conn.execute(query).mappings()]

    # -- ratings -------------------------------------------------------------------------------

    def all_ratings(self) -> list[Rating]:
        query = sa.select(ratings).order_by(ratings.c.exercise_id)
        return [Rating(**row) for row in self.conn.execute(query).mappings()]

    def rating(self, exercise_id: str) -> Rating | None:
        query = sa.select(ratings).where(ratings.c.exercise_id == exercise_id)
        row = self.conn.execute(query).mappings().first()
        return None if row is None else Rating(**row)

    # -- reconciliation ------------------------------------------------------------------------

    def ledger_page(
        self, window: Window, manager_id: str | None, *, after: tuple[str, int] | None, limit: int
    ) -> list[RecordedEntry]:
        query = sa.select(*_ENTRY_COLUMNS)
        if window.since is not None:
            query = query.where(ledger.c.occurred_at >= window.since)
        if window.until is not None:
            query = query.where(ledger.c.occurred_at < window.until)
        if manager_id is not None:
            query = query.where(ledger.c.manager_id == manager_id)
        if after is not None:
            moment, entry_id = after
            query = query.where(
                sa.or_(
                    ledger.c.occurred_at > moment,
                    sa.and_(ledger.c.occurred_at == moment, ledger.c.id > entry_id),
                )
            )
        query = query.order_by(ledger.c.occurred_at, ledger.c.id).limit(limit)
        return [_entry(row) for row in self.conn.execute(query).mappings()]

    def entries_of(
        self, event_ids: Sequence[str], business_keys: Sequence[str]
    ) -> list[RecordedEntry]:
        """Entries, whenever they occurred, of these source events or under these business
        keys."""
        found: dict[int, RecordedEntry] = {}
        for column, values in (
            (ledger.c.source_event_id, list(event_ids)),
            (ledger.c.business_key, list(business_keys)),
        ):
            for start in range(0, len(values), 500):
                query = sa.select(*_ENTRY_COLUMNS).where(column.in_(values[start : start + 500]))
                rows = self.conn.execute(query).mappings()
                found.update((row["id"], _entry(row)) for row in rows)
        return list(found.values())


class UnitOfWorkLedger:
    """The ledger as reconciliation reads it (`ports.Ledger`): in a transaction of the unit
    of work, so every read of one reconciliation sees the same ledger."""

    def __init__(self, uow: UnitOfWork[Views]) -> None:
        self._uow = uow

    @contextmanager
    def reading(self) -> Iterator[Views]:
        with self._uow as uow:
            yield uow.repo
