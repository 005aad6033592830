"""Read-only queries behind the GET routes; balances are always sums over the ledger."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from teacher_hiring.bonus.adapters.repository import BonusRepository
from teacher_hiring.bonus.adapters.tables import accounts, ledger, managers, ratings
from teacher_hiring.bonus.domain.model import EntryKind, Manager
from teacher_hiring.bonus.service_layer.results import AccountOverview
from teacher_hiring.messaging.unit_of_work import UnitOfWork

_MANAGER_COLUMNS = (managers.c.first_name, managers.c.last_name, managers.c.team, managers.c.email)


def _replicated(
    first_name: str | None, last_name: str | None, team: str | None, email: str | None
) -> Manager | None:
    """The replica's manager; None when the replica lacks them."""
    if first_name is None or email is None:
        return None
    return Manager(first_name, last_name or "", email, team)


def manager(conn: Connection, manager_id: str) -> Manager | None:
    query = sa.select(*_MANAGER_COLUMNS).where(managers.c.manager_id == manager_id)
    row = conn.execute(query).first()
    return None if row is None else _replicated(*row)


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


def _account_row(row: sa.RowMapping) -> AccountOverview:
    bonus_cents, fine_cents, payment_cents = (int(row[f"{k.value}_cents"]) for k in EntryKind)
    return AccountOverview(
        manager_id=row["manager_id"],
        manager=_replicated(*(row[column.name] for column in _MANAGER_COLUMNS)),
        opened_at=row["opened_at"],
        balance_cents=int(row["balance_cents"]),
        credits_cents=bonus_cents + payment_cents,
        debits_cents=fine_cents,
        entries=int(row["entries"]),
        bonus_cents=bonus_cents,
        fine_cents=fine_cents,
        payment_cents=payment_cents,
        bonus_count=int(row["bonus_count"]),
        fine_count=int(row["fine_count"]),
        payment_count=int(row["payment_count"]),
    )


def all_accounts(conn: Connection) -> list[AccountOverview]:
    """Every account with its balance, credits, debits and counts per kind."""
    return [_account_row(row) for row in conn.execute(_per_account()).mappings()]


def has_account(conn: Connection, manager_id: str) -> bool:
    query = sa.select(accounts.c.manager_id).where(accounts.c.manager_id == manager_id)
    return conn.execute(query).first() is not None


def account(conn: Connection, manager_id: str) -> AccountOverview | None:
    query = _per_account().where(accounts.c.manager_id == manager_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else _account_row(row)


_ENTRY_COLUMNS = (
    ledger.c.id,
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


def _entry(data: sa.RowMapping) -> dict[str, Any]:
    return {
        "id": int(data["id"]),
        "kind": data["kind"],
        "amount_cents": int(data["amount_cents"]),
        "business_key": data["business_key"],
        "occurred_at": data["occurred_at"],
        "recorded_at": data["recorded_at"],
        "source": {
            "event_id": data["source_event_id"],
            "event_name": data["source_event_name"],
            "producer": data["source_producer"],
            "trace_id": data["trace_id"],
        },
        "details": data["details"],
    }


def _filter(manager_id: str, kind: EntryKind | None) -> list[sa.ColumnElement[bool]]:
    conditions = [ledger.c.manager_id == manager_id]
    if kind is not None:
        conditions.append(ledger.c.kind == kind.value)
    return conditions


def entries(
    conn: Connection, manager_id: str, *, limit: int, offset: int, kind: EntryKind | None = None
) -> list[dict[str, Any]]:
    """Newest first (by when it happened, then by arrival)."""
    query = (
        sa.select(*_ENTRY_COLUMNS)
        .where(*_filter(manager_id, kind))
        .order_by(ledger.c.occurred_at.desc(), ledger.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_entry(row) for row in conn.execute(query).mappings()]


def count_entries(conn: Connection, manager_id: str, kind: EntryKind | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(ledger).where(*_filter(manager_id, kind))
    return int(conn.execute(query).scalar_one())


def balance_before(conn: Connection, manager_id: str, moment: str) -> int:
    query = sa.select(sa.func.coalesce(sa.func.sum(ledger.c.amount_cents), 0)).where(
        ledger.c.manager_id == manager_id, ledger.c.occurred_at < moment
    )
    return int(conn.execute(query).scalar_one())


def entries_between(
    conn: Connection, manager_id: str, start: str, end: str
) -> list[dict[str, Any]]:
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
    return [_entry(row) for row in conn.execute(query).mappings()]


def balance_history(conn: Connection, manager_id: str, limit: int) -> list[dict[str, Any]]:
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
    query = sa.select(steps).order_by(steps.c.occurred_at.desc(), steps.c.id.desc()).limit(limit)
    rows = list(conn.execute(query).mappings())
    return [
        {
            "at": row["occurred_at"],
            "kind": row["kind"],
            "amount_cents": int(row["amount_cents"]),
            "balance_cents": int(row["balance_cents"]),
        }
        for row in reversed(rows)
    ]


def all_ratings(conn: Connection) -> list[dict[str, Any]]:
    query = sa.select(ratings).order_by(ratings.c.exercise_id)
    return [dict(row) for row in conn.execute(query).mappings()]


def rating(conn: Connection, exercise_id: str) -> dict[str, Any] | None:
    query = sa.select(ratings).where(ratings.c.exercise_id == exercise_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else dict(row)


# -- reconciliation ---------------------------------------------------------------------------


def _booked(data: sa.RowMapping) -> dict[str, Any]:
    return {"manager_id": data["manager_id"], **_entry(data)}


def ledger_page(
    conn: Connection,
    *,
    since: str | None,
    until: str | None,
    manager_id: str | None,
    after: tuple[str, int] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Entries that occurred in [since, until), oldest first (ties by arrival), after a cursor."""
    query = sa.select(ledger.c.manager_id, *_ENTRY_COLUMNS)
    if since is not None:
        query = query.where(ledger.c.occurred_at >= since)
    if until is not None:
        query = query.where(ledger.c.occurred_at < until)
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
    return [_booked(row) for row in conn.execute(query).mappings()]


def entries_of(
    conn: Connection, event_ids: Sequence[str], business_keys: Sequence[str]
) -> list[dict[str, Any]]:
    """Entries, whenever they occurred, of these source events or under these business keys."""
    found: dict[int, dict[str, Any]] = {}
    for column, values in (
        (ledger.c.source_event_id, list(event_ids)),
        (ledger.c.business_key, list(business_keys)),
    ):
        for start in range(0, len(values), 500):
            query = sa.select(ledger.c.manager_id, *_ENTRY_COLUMNS).where(
                column.in_(values[start : start + 500])
            )
            found.update((row["id"], _booked(row)) for row in conn.execute(query).mappings())
    return list(found.values())


class _LedgerReads:
    """The reads of reconciliation (`ports.LedgerReads`) on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def ledger_page(
        self,
        *,
        since: str | None,
        until: str | None,
        manager_id: str | None,
        after: tuple[str, int] | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        return ledger_page(
            self._conn, since=since, until=until, manager_id=manager_id, after=after, limit=limit
        )

    def entries_of(
        self, event_ids: Sequence[str], business_keys: Sequence[str]
    ) -> list[dict[str, Any]]:
        return entries_of(self._conn, event_ids, business_keys)


class UnitOfWorkLedger:
    """The ledger as reconciliation reads it (`ports.Ledger`): in a transaction of the unit
    of work, so every read of one reconciliation sees the same ledger."""

    def __init__(self, uow: UnitOfWork[BonusRepository]) -> None:
        self._uow = uow

    @contextmanager
    def reading(self) -> Iterator[_LedgerReads]:
        with self._uow as uow:
            yield _LedgerReads(uow.conn)
