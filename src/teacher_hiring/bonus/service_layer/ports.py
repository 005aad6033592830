"""What bonus's service layer asks of the world, as protocols its adapters implement.

The handlers and the reconciliation see these shapes only; the SQL reads and the HTTP clients
that fill them live in `bonus.adapters`, and `bootstrap` (or a route's dependency) hands them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from teacher_hiring.bonus.domain.model import Manager


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

    def resend(self, producer: str, event_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Have `producer` stage these events again under their ids; one outcome per id."""
        ...


class LedgerReads(Protocol):
    """The ledger's entries as reconciliation reads them, inside one transaction."""

    def ledger_page(
        self,
        *,
        since: str | None,
        until: str | None,
        manager_id: str | None,
        after: tuple[str, int] | None,
        limit: int,
    ) -> list[dict[str, Any]]: ...

    def entries_of(
        self, event_ids: Sequence[str], business_keys: Sequence[str]
    ) -> list[dict[str, Any]]: ...


class Ledger(Protocol):
    def reading(self) -> AbstractContextManager[LedgerReads]:
        """A transaction whose reads all see one state of the ledger."""
        ...
