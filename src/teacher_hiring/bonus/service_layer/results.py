"""What bonus's handlers give back: small immutable records the HTTP layer answers with.

Their fields carry the names of the response bodies (entrypoints/schemas.py), so a route
returns them as they are and its `response_model` reads them by attribute (a manager's
`name` too, a property of the domain's Manager). The rows of the ledger and the ratings stay
the dictionaries `adapters/views.py` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from teacher_hiring.bonus.domain.model import EntryKind, Manager
from teacher_hiring.bonus.domain.statement import Totals


@dataclass(frozen=True, slots=True)
class AccountOverview:
    """An account with its sums over the ledger; fines as the positive amounts issued."""

    manager_id: str
    manager: Manager | None
    opened_at: str
    balance_cents: int
    credits_cents: int
    debits_cents: int
    entries: int
    bonus_cents: int
    fine_cents: int
    payment_cents: int
    bonus_count: int
    fine_count: int
    payment_count: int


@dataclass(frozen=True, slots=True)
class AccountStatement:
    """The entries of [start, end) between the opening and the closing balance."""

    manager_id: str
    manager: Manager | None
    start: date
    end: date
    opening_balance_cents: int
    entries: list[dict[str, Any]]
    totals: Totals
    closing_balance_cents: int


@dataclass(frozen=True, slots=True)
class EntriesPage:
    """One page of an account's entries, newest first; `total` counts every page."""

    manager_id: str
    kind: EntryKind | None
    limit: int
    offset: int
    total: int
    items: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class BalanceHistory:
    """The balance after each of the newest entries, oldest first, for a chart."""

    manager_id: str
    total: int
    points: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Sums:
    """What the ledger holds of each kind; fines as the positive amounts issued."""

    bonus_cents: int
    fine_cents: int
    payment_cents: int
    bonus_count: int
    fine_count: int
    payment_count: int
    balance_cents: int


@dataclass(frozen=True, slots=True)
class ManagerSums(Sums):
    """The same sums for one manager's account."""

    manager_id: str


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    """Per manager and over the whole ledger: what reconciliation compares."""

    items: list[ManagerSums]
    overall: Sums
