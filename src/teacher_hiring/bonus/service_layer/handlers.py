"""The handlers of the bonus service: the only place where the rules meet storage."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import Any

import structlog

from teacher_hiring.bonus.adapters import views
from teacher_hiring.bonus.adapters.repository import BonusRepository
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
    Manager,
    Rating,
    ledger_entry,
    newer_rating_wins,
    utc_timestamp,
)
from teacher_hiring.bonus.metrics import LEDGER_DUPLICATE_BUSINESS_KEYS
from teacher_hiring.bonus.service_layer.ports import ManagerDirectory
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
    command: MoneyCommand, source: EventSource, uow: UnitOfWork[BonusRepository]
) -> Outcome:
    """Turn a money event into its one ledger entry, opening the account if needed.

    One statement on the happy path (two on SQLite). A business key already in the ledger
    with the same manager and amount is the same money re-emitted (DUPLICATE, counted); with
    another manager or amount it is BusinessKeyConflict, so the event is retried and
    dead-lettered.
    """
    entry = ledger_entry(command, source)
    now = _now()
    with uow:
        repository = uow.repo
        if repository.open_account_and_append(entry, now):
            uow.commit()
            return Outcome.APPLIED
        stored = repository.effect_under(entry.business_key)
        if stored is None or not entry.has_same_effect(stored.manager_id, stored.amount_cents):
            raise BusinessKeyConflict(
                f"business key {entry.business_key} is in the ledger as "
                f"{stored.amount_cents if stored else '?'} cents for manager "
                f"{stored.manager_id if stored else '?'} (event "
                f"{stored.source_event_id if stored else '?'}), but event {source.event_id} "
                f"says {entry.amount_cents} cents for manager {entry.manager_id}",
                business_key=entry.business_key,
            )
        uow.commit()
    LEDGER_DUPLICATE_BUSINESS_KEYS.labels("bonus", entry.kind.value).inc()
    log.info(
        "ledger.duplicate_business_key",
        business_key=entry.business_key,
        event_id=source.event_id,
        event_name=source.event_name,
        first_event_id=stored.source_event_id,
    )
    return Outcome.DUPLICATE


def record_rating(command: RecordRating, uow: UnitOfWork[BonusRepository]) -> Outcome:
    """Keep the newest rating of the exercise; an older or equal rating_version changes nothing."""
    rating = Rating(
        exercise_id=command.exercise_id,
        exercise_version=command.exercise_version,
        rating=command.rating,
        rating_version=command.rating_version,
        attempted_candidates=command.attempted_candidates,
        failed_first_attempts=command.failed_first_attempts,
        changed_at=utc_timestamp(command.changed_at, "changed_at"),
    )
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


def replicate_manager(command: ReplicateManager, uow: UnitOfWork[BonusRepository]) -> Outcome:
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
    manager_id: str, uow: UnitOfWork[BonusRepository], directory: ManagerDirectory
) -> AccountOverview:
    """The account with its sums; the manager from the replica, else from exercises (COMM-070).

    The transaction is closed before exercises is asked, so a slow answer holds no lock.
    """
    with uow:
        found = views.account(uow.conn, manager_id)
    if found is None:
        raise _no_account(manager_id)
    if found.manager is None:
        return replace(found, manager=directory.manager(manager_id))
    return found


def account_statement(
    manager_id: str,
    start: str,
    end: str,
    uow: UnitOfWork[BonusRepository],
    directory: ManagerDirectory,
) -> AccountStatement:
    """Opening balance, the entries of [start, end), totals per kind and closing balance,
    headed by the manager as account_overview finds them."""
    period = statements.Period.parse(start, end)
    with uow:
        _require_account(uow, manager_id)
        manager = views.manager(uow.conn, manager_id)
        opening = views.balance_before(uow.conn, manager_id, period.starts_at)
        lines = views.entries_between(uow.conn, manager_id, period.starts_at, period.ends_at)
    result = statements.statement(
        period, opening, ((line["kind"], line["amount_cents"]) for line in lines)
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


def list_accounts(uow: UnitOfWork[BonusRepository]) -> list[AccountOverview]:
    with uow:
        return views.all_accounts(uow.conn)


def account_entries(
    manager_id: str,
    uow: UnitOfWork[BonusRepository],
    *,
    limit: int,
    offset: int,
    kind: EntryKind | None,
) -> EntriesPage:
    """One page of the account's entries, newest first, and how many there are in all."""
    with uow:
        _require_account(uow, manager_id)
        page = views.entries(uow.conn, manager_id, limit=limit, offset=offset, kind=kind)
        total = views.count_entries(uow.conn, manager_id, kind)
    return EntriesPage(
        manager_id=manager_id, kind=kind, limit=limit, offset=offset, total=total, items=page
    )


def balance_history(
    manager_id: str, uow: UnitOfWork[BonusRepository], *, limit: int
) -> BalanceHistory:
    """The balance after each of the account's newest `limit` entries, oldest first."""
    with uow:
        _require_account(uow, manager_id)
        points = views.balance_history(uow.conn, manager_id, limit)
        total = views.count_entries(uow.conn, manager_id)
    return BalanceHistory(manager_id=manager_id, total=total, points=points)


def ledger_totals(uow: UnitOfWork[BonusRepository]) -> LedgerTotals:
    """Per manager, what the ledger holds of each kind: what reconciliation compares."""
    with uow:
        rows = views.all_accounts(uow.conn)
    managers = [
        ManagerSums(
            manager_id=row.manager_id,
            bonus_cents=row.bonus_cents,
            fine_cents=row.fine_cents,
            payment_cents=row.payment_cents,
            bonus_count=row.bonus_count,
            fine_count=row.fine_count,
            payment_count=row.payment_count,
            balance_cents=row.balance_cents,
        )
        for row in rows
    ]
    overall = Sums(
        bonus_cents=sum(m.bonus_cents for m in managers),
        fine_cents=sum(m.fine_cents for m in managers),
        payment_cents=sum(m.payment_cents for m in managers),
        bonus_count=sum(m.bonus_count for m in managers),
        fine_count=sum(m.fine_count for m in managers),
        payment_count=sum(m.payment_count for m in managers),
        balance_cents=sum(m.balance_cents for m in managers),
    )
    return LedgerTotals(items=managers, overall=overall)


def list_ratings(uow: UnitOfWork[BonusRepository]) -> list[dict[str, Any]]:
    with uow:
        return views.all_ratings(uow.conn)


def get_rating(exercise_id: str, uow: UnitOfWork[BonusRepository]) -> dict[str, Any]:
    with uow:
        found = views.rating(uow.conn, exercise_id)
    if found is None:
        raise RatingNotFound(
            f"exercise_id: no rating received for {exercise_id}", exercise_id=exercise_id
        )
    return found


def _require_account(uow: UnitOfWork[BonusRepository], manager_id: str) -> None:
    if not views.has_account(uow.conn, manager_id):
        raise _no_account(manager_id)


def _no_account(manager_id: str) -> AccountNotFound:
    return AccountNotFound(f"manager_id: no account for {manager_id}", manager_id=manager_id)
