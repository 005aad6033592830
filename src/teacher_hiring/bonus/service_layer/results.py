"""What bonus's handlers give back: small immutable records the HTTP layer answers with.

Their fields carry the names of the response bodies (entrypoints/schemas.py and
reconciliation_schemas.py), so a route returns them as they are and its `response_model` reads
them by attribute (a manager's `name` too, a property of the domain's Manager, and an entry's
`source`, the domain's EventSource).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date

from teacher_hiring.bonus.domain.model import EntryKind, Manager, RecordedEntry
from teacher_hiring.bonus.domain.reconciliation import Difference, ManagerTotals
from teacher_hiring.bonus.domain.statement import Totals


@dataclass(frozen=True, slots=True, kw_only=True)
class Sums(Totals):
    """What the ledger holds of each kind (fines as the positive amounts issued, credits and
    debits as a statement's totals count them), and the balance they make."""

    balance_cents: int

    @classmethod
    def total(cls, parts: Iterable[Sums]) -> Sums:
        """The sums of every part, field by field."""
        rows = list(parts)
        return cls(**{f.name: sum(getattr(row, f.name) for row in rows) for f in fields(cls)})


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagerSums(Sums):
    """The same sums for one manager's account."""

    manager_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountOverview(ManagerSums):
    """An account with its sums over the ledger, who owns it and since when."""

    manager: Manager | None
    opened_at: str
    entries: int


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    """Per manager and over the whole ledger: what reconciliation compares."""

    items: list[ManagerSums]
    overall: Sums


@dataclass(frozen=True, slots=True)
class AccountStatement:
    """The entries of [start, end) between the opening and the closing balance."""

    manager_id: str
    manager: Manager | None
    start: date
    end: date
    opening_balance_cents: int
    entries: list[RecordedEntry]
    totals: Totals
    closing_balance_cents: int


@dataclass(frozen=True, slots=True)
class BalancePoint:
    """The balance once one entry is counted: a point of an account's chart."""

    at: str
    kind: EntryKind
    amount_cents: int
    balance_cents: int


@dataclass(frozen=True, slots=True)
class BalanceHistory:
    """The balance after each of the newest entries, oldest first; `total` counts them all."""

    manager_id: str
    total: int
    points: list[BalancePoint]


@dataclass(frozen=True, slots=True)
class EntriesPage:
    """One page of an account's entries, newest first; `total` counts every page."""

    manager_id: str
    kind: EntryKind | None
    limit: int
    offset: int
    total: int
    items: list[RecordedEntry]


# -- reconciliation ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerPage:
    """One page of the ledger's entries, oldest first; `next` is the cursor of the next page
    (None on the last)."""

    items: list[RecordedEntry]
    next: str | None


@dataclass(frozen=True, slots=True)
class ComparedWindow:
    """The window compared: the one asked for, its start moved later if a producer no longer
    keeps older money (`clamped`)."""

    since: str
    until: str
    requested_since: str

    @property
    def clamped(self) -> bool:
        return self.since != self.requested_since


@dataclass(frozen=True, slots=True)
class ProducerCount:
    """How much money one producer reported in the window, and since when it keeps it."""

    producer: str
    issued: int
    kept_since: str


@dataclass(frozen=True, slots=True)
class Summary:
    clean: bool
    differences: int
    repairable: int
    by_kind: dict[str, int]
    issued_count: int
    issued_cents: int
    ledger_count: int
    ledger_cents: int


@dataclass(frozen=True, slots=True)
class Report:
    """Every difference between the money issued in the window and the ledger, and the sums
    of each manager on both sides."""

    window: ComparedWindow
    manager_id: str | None
    producers: list[ProducerCount]
    summary: Summary
    managers: tuple[ManagerTotals, ...]
    differences: tuple[Difference, ...]


@dataclass(frozen=True, slots=True)
class Resent:
    """What a producer did with one event it was asked to send again."""

    producer: str
    event_id: str
    outcome: str


@dataclass(frozen=True, slots=True)
class RepairResult:
    """The report before the repair, and what each producer did."""

    report: Report
    resent: list[Resent]
    counts: dict[str, int]
