"""Reconciliation: what hiring and exercises issued, set against what the ledger holds.

Pure logic: both sides come in as plain records, the differences go out. Matching is by event
id first, then by business key, the two ways the ledger itself recognises money it has:

- issued, and in the ledger under neither its event id nor its business key: MISSING (the
  only difference a repair can fix, by re-sending the original event);
- in the ledger under its event id (or under another issued event's id with the same business
  key), with another amount or manager: MISMATCH;
- the business key in the ledger under an event id nobody issued: OTHER_EVENT_ID;
- in the ledger, and nothing issued carries its event id or business key: NOT_ISSUED.

The same money issued twice under two event ids (a re-emission) is no difference when the
ledger holds it once under one of them: that is the business key doing its work.

Both sides are filed under the moment the money was issued (the event's occurred_at), so a
window [since, until) cuts them at the same place. Ledger entries outside the window may be
given too, found by event id or business key: they match, but are never reported or counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from teacher_hiring.bonus.domain.commands import (
    CreditBonus,
    CreditPayment,
    DebitFine,
    MoneyCommand,
)
from teacher_hiring.bonus.domain.model import EventSource, LedgerEntry, ledger_entry

MONEY_COMMANDS: Mapping[str, type[MoneyCommand]] = {
    "BonusAdded": CreditBonus,
    "FineAdded": DebitFine,
    "PaymentCommited": CreditPayment,
}


class Gap(StrEnum):
    MISSING = "missing"
    NOT_ISSUED = "not_issued"
    OTHER_EVENT_ID = "other_event_id"
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class Money:
    """One side's view of one sum of money: as issued, or as the ledger holds it."""

    event_id: str
    event_name: str
    producer: str
    manager_id: str
    amount_cents: int  # signed as the ledger holds it: a fine is negative
    business_key: str
    occurred_at: str  # normalised UTC text

    @classmethod
    def of(cls, entry: LedgerEntry) -> Money:
        """The money a ledger entry books (one the ledger holds, or one it should)."""
        return cls(
            event_id=entry.source.event_id,
            event_name=entry.source.event_name,
            producer=entry.source.producer,
            manager_id=entry.manager_id,
            amount_cents=entry.amount_cents,
            business_key=entry.business_key,
            occurred_at=entry.occurred_at,
        )


def expected(event_name: str, payload: dict[str, Any], source: EventSource) -> Money:
    """The ledger entry an issued money event must become (the consumer's own rule)."""
    return Money.of(ledger_entry(MONEY_COMMANDS[event_name](**payload), source))


@dataclass(frozen=True, slots=True)
class Window:
    since: str
    until: str

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, str) and self.since <= moment < self.until


@dataclass(frozen=True, slots=True)
class Difference:
    """One difference; `issued`, `booked` or both are given, and the manager and business key
    are the issued money's, else the entry's."""

    kind: Gap
    issued: Money | None
    booked: Money | None
    detail: str

    @property
    def _either(self) -> Money:
        either = self.issued or self.booked
        assert either is not None, "a difference has an issued side, a ledger side or both"
        return either

    @property
    def manager_id(self) -> str:
        return self._either.manager_id

    @property
    def business_key(self) -> str:
        return self._either.business_key

    @property
    def moment(self) -> str:
        """When the money was issued (or the entry says it was)."""
        return self._either.occurred_at

    @property
    def repairable(self) -> bool:
        """Re-sending the issued event under its own id would put it in the ledger."""
        return self.kind is Gap.MISSING


@dataclass(frozen=True, slots=True)
class ManagerTotals:
    manager_id: str
    issued_cents: int
    issued_count: int
    ledger_cents: int
    ledger_count: int
    differences: int


@dataclass(frozen=True, slots=True)
class Reconciliation:
    window: Window
    differences: tuple[Difference, ...]
    managers: tuple[ManagerTotals, ...]

    @property
    def clean(self) -> bool:
        return not self.differences

    def by_kind(self) -> dict[str, int]:
        counts = {kind.value: 0 for kind in Gap}
        for difference in self.differences:
            counts[difference.kind.value] += 1
        return counts


def reconcile(issued: Iterable[Money], booked: Iterable[Money], window: Window) -> Reconciliation:
    """Every difference between the money issued in the window and the ledger's entries."""
    issued_in = _unique(m for m in issued if m.occurred_at in window)
    booked_all = _unique(booked)
    by_key = {entry.business_key: entry for entry in booked_all.values()}
    issued_ids = set(issued_in)
    matched: set[str] = set()
    missing: set[str] = set()
    differences: list[Difference] = []
    for money in issued_in.values():
        entry = booked_all.get(money.event_id)
        if entry is not None:
            matched.add(entry.event_id)
            if (entry.amount_cents, entry.manager_id) != (money.amount_cents, money.manager_id):
                differences.append(_mismatch(money, entry))
            continue
        entry = by_key.get(money.business_key)
        if entry is None:
            if money.business_key not in missing:  # the same money issued twice: once missing
                missing.add(money.business_key)
                differences.append(_missing(money))
            continue
        matched.add(entry.event_id)
        if entry.event_id not in issued_ids:
            differences.append(_other_event_id(money, entry))
        elif (entry.amount_cents, entry.manager_id) != (money.amount_cents, money.manager_id):
            differences.append(_mismatch(money, entry))
    for entry in booked_all.values():
        if entry.event_id not in matched and entry.occurred_at in window:
            differences.append(_not_issued(entry))
    differences.sort(key=lambda d: (d.manager_id, d.moment, d.business_key, d.kind.value))
    totals = _totals(issued_in.values(), booked_all.values(), differences, window)
    return Reconciliation(window, tuple(differences), totals)


def _unique(money: Iterable[Money]) -> dict[str, Money]:
    """By event id, in the order given (a page read twice counts once)."""
    found: dict[str, Money] = {}
    for item in money:
        found.setdefault(item.event_id, item)
    return found


def _cents(amount: int) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"


def _missing(money: Money) -> Difference:
    return Difference(
        Gap.MISSING,
        money,
        None,
        f"{money.event_name} {money.event_id} from {money.producer} is not in the ledger",
    )


def _mismatch(money: Money, entry: Money) -> Difference:
    changes = []
    if entry.amount_cents != money.amount_cents:
        changes.append(f"amount {_cents(money.amount_cents)} issued, {_cents(entry.amount_cents)}")
    if entry.manager_id != money.manager_id:
        changes.append(f"manager {money.manager_id} issued, {entry.manager_id}")
    return Difference(
        Gap.MISMATCH,
        money,
        entry,
        f"{money.event_name} {money.event_id}: "
        + "; ".join(changes)
        + " in the ledger"
        + ("" if entry.event_id == money.event_id else f" (under {entry.event_id})"),
    )


def _other_event_id(money: Money, entry: Money) -> Difference:
    same = (entry.amount_cents, entry.manager_id) == (money.amount_cents, money.manager_id)
    effect = "" if same else f" as {_cents(entry.amount_cents)} for manager {entry.manager_id}"
    return Difference(
        Gap.OTHER_EVENT_ID,
        money,
        entry,
        f"{money.business_key} was issued as {money.event_id} but the ledger holds it{effect} "
        f"under {entry.event_id}, which nobody issued",
    )


def _not_issued(entry: Money) -> Difference:
    return Difference(
        Gap.NOT_ISSUED,
        None,
        entry,
        f"{entry.event_name} {entry.event_id} (from {entry.producer}) is in the ledger, but "
        "nothing issued carries its event id or business key",
    )


def _totals(
    issued: Iterable[Money],
    booked: Iterable[Money],
    differences: list[Difference],
    window: Window,
) -> tuple[ManagerTotals, ...]:
    """Per manager: the money issued (once per business key), the window's entries, and how
    many differences are theirs."""
    sums: dict[str, list[int]] = {}
    keys: set[str] = set()
    for money in issued:
        if money.business_key not in keys:
            keys.add(money.business_key)
            row = sums.setdefault(money.manager_id, [0, 0, 0, 0, 0])
            row[0] += money.amount_cents
            row[1] += 1
    for entry in booked:
        if entry.occurred_at in window:
            row = sums.setdefault(entry.manager_id, [0, 0, 0, 0, 0])
            row[2] += entry.amount_cents
            row[3] += 1
    for difference in differences:
        sums.setdefault(difference.manager_id, [0, 0, 0, 0, 0])[4] += 1
    return tuple(ManagerTotals(manager, *row) for manager, row in sorted(sums.items()))
