"""The handlers of the bonus service: the only place where the rules meet storage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum

import structlog

from teacher_hiring.bonus.domain import statement as statements
from teacher_hiring.bonus.domain.commands import MoneyCommand, RecordRating, ReplicateManager
from teacher_hiring.bonus.domain.errors import (
    AccountNotFound,
    BusinessKeyConflict,
    RatingNotFound,
)
from teacher_hiring.bonus.domain.model import (
    EntryKind,
    EventSource,
    LedgerEntry,
    Manager,
    ledger_entry,
    utc_timestamp,
)
from teacher_hiring.bonus.domain.rating import Rating, newer_rating_wins
from teacher_hiring.bonus.metrics import LEDGER_DUPLICATE_BUSINESS_KEYS
from teacher_hiring.bonus.service_layer.ports import (
    ManagerDirectory,
    Repository,
    StoredEffect,
    Views,
)
from teacher_hiring.bonus.service_layer.results import (
    AccountOverview,
    AccountStatement,
    BalanceHistory,
    EntriesPage,
    LedgerTotals,
    ManagerSums,
    Sums,
)
from teacher_hiring.foundation.time import now_rfc3339
from teacher_hiring.messaging.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"


def _now() -> str:
    return now_rfc3339()


# -- events ---------------------------------------------------------------------------------


def record_money(
    command: MoneyCommand, source: EventSource, uow: UnitOfWork[Repository]
) -> Outcome:
    """Turn a money event into its one ledger entry, opening the account if needed."""
    with uow:
        outcome = book_money(command, source, uow.repo)
        uow.commit()
    return outcome


def book_money(command: MoneyCommand, source: EventSource, repository: Repository) -> Outcome:
    """`record_money` inside a transaction the caller owns (and commits).

    One statement on the happy path (two on SQLite). A business key already in the ledger
    with the same manager and amount is the same money re-emitted (DUPLICATE, counted); with
    another manager or amount it is BusinessKeyConflict, so the event is retried and
    dead-lettered.
    """
    entry = ledger_entry(command, source)
    if repository.open_account_and_append(entry, _now()):
        return Outcome.APPLIED
    return _already_booked(entry, repository.effect_under(entry.business_key))


def record_money_many(
    bookings: Sequence[tuple[MoneyCommand, EventSource]], uow: UnitOfWork[Repository]
) -> list[Outcome]:
    """`record_money` of each money event, in order, in one transaction."""
    with uow:
        outcomes = book_money_many(bookings, uow.repo)
        uow.commit()
    return outcomes


def book_money_many(
    bookings: Sequence[tuple[MoneyCommand, EventSource]], repository: Repository
) -> list[Outcome]:
    """`book_money` of each, in order, in a transaction the caller owns: two statements for
    the whole batch when every business key is new (the backlog of a poll), and one more
    read when some are not. Raises BusinessKeyConflict as `book_money` would, for the first
    entry that meets one; the caller then books the events one at a time to isolate it.
    """
    entries = [ledger_entry(command, source) for command, source in bookings]
    recorded_at = [_now() for _ in entries]  # as book_money: when each was turned into a row
    if repository.append_many(entries, recorded_at) == len(entries):
        return [Outcome.APPLIED] * len(entries)
    stored = repository.effects_under_keys(entry.business_key for entry in entries)
    duplicates: list[tuple[LedgerEntry, StoredEffect]] = []
    outcomes = []
    for entry in entries:
        found = stored.get(entry.business_key)
        if found is not None and found.source_event_id == entry.source.event_id:
            outcomes.append(Outcome.APPLIED)  # appended by this batch (an event id is claimed once)
            continue
        duplicates.append((entry, _same_effect(entry, found)))
        outcomes.append(Outcome.DUPLICATE)
    for entry, found in duplicates:  # counted once the whole batch is known to hold
        _count_duplicate(entry, found)
    return outcomes


def _already_booked(entry: LedgerEntry, stored: StoredEffect | None) -> Outcome:
    """DUPLICATE (counted) when the ledger holds the entry's business key with the same
    effect; BusinessKeyConflict when it holds it with another."""
    _count_duplicate(entry, _same_effect(entry, stored))
    return Outcome.DUPLICATE


def _same_effect(entry: LedgerEntry, stored: StoredEffect | None) -> StoredEffect:
    """What the ledger holds under the entry's business key, when it is the entry's effect;
    else BusinessKeyConflict."""
    source = entry.source
    if stored is None or not entry.has_same_effect(stored.manager_id, stored.amount_cents):
        raise BusinessKeyConflict(
            f"business key {entry.business_key} is in the ledger as "
            f"{stored.amount_cents if stored else '?'} cents for manager "
            f"{stored.manager_id if stored else '?'} (event "
            f"{stored.source_event_id if stored else '?'}), but event {source.event_id} "
            f"says {entry.amount_cents} cents for manager {entry.manager_id}",
            business_key=entry.business_key,
        )
    return stored


def _count_duplicate(entry: LedgerEntry, stored: StoredEffect) -> None:
    LEDGER_DUPLICATE_BUSINESS_KEYS.labels("bonus", entry.kind.value).inc()
    log.info(
        "ledger.duplicate_business_key",
        business_key=entry.business_key,
        trace_id=entry.source.trace_id,
        event_id=entry.source.event_id,
        event_name=entry.source.event_name,
        first_event_id=stored.source_event_id,
    )


def record_rating(command: RecordRating, uow: UnitOfWork[Repository]) -> Outcome:
    """Keep the newest rating of the exercise; an older or equal rating_version changes nothing."""
    rating = replace(command, changed_at=utc_timestamp(command.changed_at, "changed_at"))
    with uow:
        repository = uow.repo
        stored = repository.rating_version(rating.exercise_id)
        newer = newer_rating_wins(stored, rating.rating_version)
        applied = newer and repository.save_rating(rating)
        uow.commit()
    if applied:
        return Outcome.APPLIED
    log.info(
        "rating.stale_ignored",
        exercise_id=rating.exercise_id,
        rating_version=rating.rating_version,
        stored_rating_version=stored,
    )
    return Outcome.STALE


def record_ratings(commands: Sequence[RecordRating], uow: UnitOfWork[Repository]) -> list[Outcome]:
    """`record_rating` of each, in order, in one transaction: one read of the versions held,
    one write of the ratings that are newer than what is held by then."""
    ratings = [replace(c, changed_at=utc_timestamp(c.changed_at, "changed_at")) for c in commands]
    outcomes: list[Outcome] = []
    newer: list[Rating] = []
    stale: list[tuple[Rating, int | None]] = []
    with uow:
        held: dict[str, int | None] = dict(uow.repo.rating_versions(r.exercise_id for r in ratings))
        for rating in ratings:
            stored = held.get(rating.exercise_id)
            if newer_rating_wins(stored, rating.rating_version):
                held[rating.exercise_id] = rating.rating_version
                newer.append(rating)
                outcomes.append(Outcome.APPLIED)
            else:
                stale.append((rating, stored))
                outcomes.append(Outcome.STALE)
        uow.repo.save_ratings(newer)
        uow.commit()
    for ignored, stored in stale:
        log.info(
            "rating.stale_ignored",
            exercise_id=ignored.exercise_id,
            rating_version=ignored.rating_version,
            stored_rating_version=stored,
        )
    return outcomes


def replicate_manager(command: ReplicateManager, uow: UnitOfWork[Repository]) -> Outcome:
    """Keep the replica (never going back to older data) and make sure the account exists."""
    as_of = utc_timestamp(command.as_of, "produced_at")
    with uow:
        repository = uow.repo
        manager = Manager(
            first_name=command.first_name,
            last_name=command.last_name,
            team=command.team,
            email=command.email,
        )
        saved = repository.save_manager(command.manager_id, manager, as_of)
        repository.open_account(command.manager_id, _now())
        uow.commit()
    return Outcome.APPLIED if saved else Outcome.STALE


# -- reads ----------------------------------------------------------------------------------


def account_overview(
    manager_id: str, uow: UnitOfWork[Views], directory: ManagerDirectory
) -> AccountOverview:
    """The account with its sums; the manager from the replica, else from exercises (COMM-070).

    The transaction is closed before exercises is asked, so a slow answer holds no lock.
    """
    with uow:
        found = uow.repo.account(manager_id)
    if found is None:
        raise _no_account(manager_id)
    if found.manager is None:
        return replace(found, manager=directory.manager(manager_id))
    return found


def account_statement(
    manager_id: str,
    start: str,
    end: str,
    uow: UnitOfWork[Views],
    directory: ManagerDirectory,
) -> AccountStatement:
    """Opening balance, the entries of [start, end), totals per kind and closing balance,
    headed by the manager as account_overview finds them."""
    period = statements.Period.parse(start, end)
    with uow:
        _require_account(uow, manager_id)
        manager = uow.repo.manager(manager_id)
        opening = uow.repo.balance_before(manager_id, period.starts_at)
        lines = uow.repo.entries_between(manager_id, period.starts_at, period.ends_at)
    result = statements.statement(
        period, opening, ((line.kind, line.amount_cents) for line in lines)
    )
    return AccountStatement(
        manager_id=manager_id,
        manager=manager or directory.manager(manager_id),
        start=period.start,
        end=period.end,
        opening_balance_cents=result.opening_balance_cents,
        entries=lines,
        totals=result.totals,
        closing_balance_cents=result.closing_balance_cents,
    )


def list_accounts(uow: UnitOfWork[Views]) -> list[AccountOverview]:
    with uow:
        return uow.repo.all_accounts()


def account_entries(
    manager_id: str,
    uow: UnitOfWork[Views],
    *,
    limit: int,
    offset: int,
    kind: EntryKind | None,
) -> EntriesPage:
    """One page of the account's entries, newest first, and how many there are in all."""
    with uow:
        _require_account(uow, manager_id)
        page = uow.repo.entries(manager_id, limit=limit, offset=offset, kind=kind)
        total = uow.repo.count_entries(manager_id, kind)
    return EntriesPage(
        manager_id=manager_id, kind=kind, limit=limit, offset=offset, total=total, items=page
    )


def balance_history(manager_id: str, uow: UnitOfWork[Views], *, limit: int) -> BalanceHistory:
    """The balance after each of the account's newest `limit` entries, oldest first."""
    with uow:
        _require_account(uow, manager_id)
        points = uow.repo.balance_history(manager_id, limit)
        total = uow.repo.count_entries(manager_id, None)
    return BalanceHistory(manager_id=manager_id, total=total, points=points)


def ledger_totals(uow: UnitOfWork[Views]) -> LedgerTotals:
    """Per manager, what the ledger holds of each kind: what reconciliation compares."""
    with uow:
        accounts: list[ManagerSums] = list(uow.repo.all_accounts())
    return LedgerTotals(items=accounts, overall=Sums.total(accounts))


def list_ratings(uow: UnitOfWork[Views]) -> list[Rating]:
    with uow:
        return uow.repo.all_ratings()


def get_rating(exercise_id: str, uow: UnitOfWork[Views]) -> Rating:
    with uow:
        found = uow.repo.rating(exercise_id)
    if found is None:
        raise RatingNotFound(
            f"exercise_id: no rating received for {exercise_id}", exercise_id=exercise_id
        )
    return found


def _require_account(uow: UnitOfWork[Views], manager_id: str) -> None:
    if not uow.repo.has_account(manager_id):
        raise _no_account(manager_id)


def _no_account(manager_id: str) -> AccountNotFound:
    return AccountNotFound(f"manager_id: no account for {manager_id}", manager_id=manager_id)
