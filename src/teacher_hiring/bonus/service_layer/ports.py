"""What bonus's service layer asks of the world, as protocols its adapters implement.

The handlers and the reconciliation see these shapes only: the handlers that write are typed
against `UnitOfWork[Repository]`, the reads against `UnitOfWork[Views]`. The SQL that fills them
(`adapters.repository.BonusRepository`, `adapters.views.BonusViews`) and the HTTP clients live in
`bonus.adapters`, and `bootstrap` (or a route's dependency) hands them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from teacher_hiring.bonus.domain.model import (
    EntryKind,
    LedgerEntry,
    Manager,
    RecordedEntry,
)
from teacher_hiring.bonus.domain.rating import Rating
from teacher_hiring.bonus.service_layer.results import AccountOverview, BalancePoint, Resent
from teacher_hiring.foundation.pages import Window


@dataclass(frozen=True, slots=True)
class StoredEffect:
    """What the ledger already holds under a business key."""

    manager_id: str
    amount_cents: int
    source_event_id: str


class Repository(Protocol):
    """Every write of bonus, and the few reads its writing handlers need, on the unit of work's
    transaction. A write that returns False met a row already there (or a newer one)."""

    def open_account(self, manager_id: str, opened_at: str) -> bool:
        """Open the account unless it exists; True if this call opened it."""
        ...

    def open_account_and_append(self, entry: LedgerEntry, now: str) -> bool:
        """Open the entry's account unless it exists, then append the entry; False if its
        business key is already in the ledger."""
        ...

    def effect_under(self, business_key: str) -> StoredEffect | None: ...

    def append_many(self, entries: Sequence[LedgerEntry], recorded_at: Sequence[str]) -> int:
        """Open the entries' accounts unless they exist, then append the entries in order,
        each unless its business key is in the ledger by then; how many were appended."""
        ...

    def effects_under_keys(self, business_keys: Iterable[str]) -> dict[str, StoredEffect]:
        """What the ledger holds under each of the business keys it holds."""
        ...

    def rating_version(self, exercise_id: str) -> int | None: ...

    def rating_versions(self, exercise_ids: Iterable[str]) -> dict[str, int]:
        """The rating_version held of each of the exercises that has a rating."""
        ...

    def save_ratings(self, ratings: Sequence[Rating]) -> None:
        """save_rating of each, in order (a stored rating is replaced by a newer one only)."""
        ...

    def save_rating(self, rating: Rating) -> bool:
        """Insert, or replace an older rating_version; False if the stored one is not older."""
        ...

    def save_manager(self, manager_id: str, manager: Manager, as_of: str) -> bool:
        """Insert or update unless the replica already holds newer data."""
        ...


class ManagerDirectory(Protocol):
    def manager(self, manager_id: str) -> Manager | None:
        """The manager, or None when unknown or unreachable; never raises."""


@dataclass(frozen=True, slots=True)
class IssuedMoney:
    """A producer's record of the money it issued in a window, kept since `kept_since`."""

    producer: str
    kept_since: str
    items: list[dict[str, Any]]


class Producers(Protocol):
    """The services that issue money, asked what they issued and to send it again."""

    @property
    def producers(self) -> list[str]: ...

    def issued(
        self, producer: str, *, since: str, until: str, manager_id: str | None
    ) -> IssuedMoney:
        """Everything `producer` issued in [since, until); ProducerUnavailable, ProducerFailed."""
        ...

    def resend(self, producer: str, event_ids: Sequence[str]) -> list[Resent]:
        """Have `producer` stage these events again under their ids; one outcome per id."""
        ...


class LedgerReads(Protocol):
    """The ledger's entries as reconciliation reads them, inside one transaction."""

    def ledger_page(
        self, window: Window, manager_id: str | None, *, after: tuple[str, int] | None, limit: int
    ) -> list[RecordedEntry]:
        """Entries that occurred in the window (of this manager's, if given), oldest first
        (ties by arrival), `limit` of them after (occurred_at, id)."""
        ...

    def entries_of(
        self, event_ids: Sequence[str], business_keys: Sequence[str]
    ) -> list[RecordedEntry]: ...


class Views(LedgerReads, Protocol):
    """What the pages read: accounts with their sums, entries, balances and ratings."""

    def all_accounts(self) -> list[AccountOverview]: ...

    def account(self, manager_id: str) -> AccountOverview | None: ...

    def has_account(self, manager_id: str) -> bool: ...

    def manager(self, manager_id: str) -> Manager | None:
        """The manager as the replica holds them; None when it does not."""
        ...

    def entries(
        self, manager_id: str, *, limit: int, offset: int, kind: EntryKind | None
    ) -> list[RecordedEntry]:
        """Newest first (by when it happened, then by arrival)."""
        ...

    def count_entries(self, manager_id: str, kind: EntryKind | None) -> int: ...

    def balance_before(self, manager_id: str, moment: str) -> int: ...

    def balance_history(self, manager_id: str, limit: int) -> list[BalancePoint]:
        """The balance after each of the account's newest `limit` entries, oldest first."""
        ...

    def entries_between(self, manager_id: str, start: str, end: str) -> list[RecordedEntry]:
        """Entries that occurred in [start, end), oldest first, as a statement reads."""
        ...

    def all_ratings(self) -> list[Rating]: ...

    def rating(self, exercise_id: str) -> Rating | None: ...


class Ledger(Protocol):
    def reading(self) -> AbstractContextManager[LedgerReads]:
        """A transaction whose reads all see one state of the ledger."""
        ...
