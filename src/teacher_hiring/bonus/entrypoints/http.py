"""HTTP routes of the bonus service: they parse, call a handler and shape the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.types import DecoratedCallable
from pydantic import BaseModel

from teacher_hiring.bonus.domain.model import EntryKind
from teacher_hiring.bonus.domain.rating import Rating
from teacher_hiring.bonus.entrypoints import schemas
from teacher_hiring.bonus.entrypoints.calls import money_calls
from teacher_hiring.bonus.entrypoints.deps import ManagerDirectoryDep, UnitOfWorkDep
from teacher_hiring.bonus.service_layer import handlers
from teacher_hiring.bonus.service_layer.results import (
    AccountOverview,
    AccountStatement,
    BalanceHistory,
    EntriesPage,
    LedgerTotals,
)
from teacher_hiring.runtime import auth
from teacher_hiring.runtime.bad_requests import DB_INT_MAX, InvalidRequest
from teacher_hiring.runtime.tokens import Role

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": schemas.Error}}
_BAD_PERIOD: dict[int | str, dict[str, Any]] = {
    404: {"model": schemas.Error},
    422: {
        "model": schemas.Error | InvalidRequest,
        "description": "A malformed date, or end not after start (the body names the field)",
    },
}
Day = {"format": "date"}

ManagerId = Annotated[str, Path(min_length=1, max_length=100, description="The manager's id")]

# Who may call what (docs/security.md): a manager reads their own account, operators all.
MANAGER_THEMSELF = Depends(auth.themself(Role.manager, "manager_id"))

accounts = APIRouter(prefix="/accounts", tags=["accounts"])
ratings = APIRouter(prefix="/ratings", tags=["ratings"], dependencies=[auth.STAFF])
ledger = APIRouter(prefix="/ledger", tags=["ledger"], dependencies=[auth.OPERATOR])


def _one_account(
    path: str, model: type[BaseModel], responses: dict[int | str, dict[str, Any]] = _NOT_FOUND
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """A GET route of one account's, for its manager themself (or an operator); 404 when no
    event has opened the account."""
    return accounts.get(
        path, response_model=model, responses=responses, dependencies=[MANAGER_THEMSELF]
    )


@accounts.get("", response_model=list[schemas.Account], dependencies=[auth.OPERATOR])
def list_accounts(uow: UnitOfWorkDep) -> list[AccountOverview]:
    """Every manager's account with its balance and entry counts.

    Managers come from the local replica only (null when not replicated yet): a list never
    calls the exercises service.
    """
    return handlers.list_accounts(uow)


@_one_account("/{manager_id}", schemas.Account)
def get_account(
    manager_id: ManagerId, uow: UnitOfWorkDep, directory: ManagerDirectoryDep
) -> AccountOverview:
    """One account: balance (derived from the ledger), credits, debits and entry counts.

    When the replica does not know the manager yet, the exercises service is asked with a
    short timeout and a cache (COMM-070); if it does not answer, `manager` is null and the
    account is returned all the same. 404 when no event has opened the account.
    """
    return handlers.account_overview(manager_id, uow, directory)


@_one_account("/{manager_id}/entries", schemas.EntriesPage)
def list_entries(
    manager_id: ManagerId,
    uow: UnitOfWorkDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Entries per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=DB_INT_MAX, description="Entries to skip")] = 0,
    kind: Annotated[EntryKind | None, Query(description="Only entries of this kind")] = None,
) -> EntriesPage:
    """The account's ledger entries, newest first, each naming its source event and trace."""
    return handlers.account_entries(manager_id, uow, limit=limit, offset=offset, kind=kind)


@_one_account("/{manager_id}/statement", schemas.Statement, _BAD_PERIOD)
def get_statement(
    manager_id: ManagerId,
    uow: UnitOfWorkDep,
    directory: ManagerDirectoryDep,
    start: Annotated[
        str, Query(description="First day, YYYY-MM-DD (UTC, included)", json_schema_extra=Day)
    ],
    end: Annotated[
        str,
        Query(description="Day after the last, YYYY-MM-DD (UTC, excluded)", json_schema_extra=Day),
    ],
) -> AccountStatement:
    """A statement for [start, end): opening balance, the entries, totals per kind, closing.

    closing_balance_cents = opening_balance_cents + credits_cents - debits_cents, and it equals
    the opening balance of a statement starting at `end`.
    """
    return handlers.account_statement(manager_id, start, end, uow, directory)


@accounts.get(
    "/{manager_id}/balance-history",
    response_model=schemas.BalanceHistory,
    responses=_NOT_FOUND,
    dependencies=[MANAGER_THEMSELF],
)
def get_balance_history(
    manager_id: ManagerId,
    uow: UnitOfWorkDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Newest entries to chart")] = 200,
) -> BalanceHistory:
    """The balance after each of the account's newest entries, oldest first: a chart's points.

    The last point's balance is the account's balance; `total` says how many entries there are
    in all, so a chart can say it shows only the newest.
    """
    return handlers.balance_history(manager_id, uow, limit=limit)


@ratings.get("", response_model=list[schemas.Rating])
def list_ratings(uow: UnitOfWorkDep) -> list[Rating]:
    """The newest rating bonus has received for each exercise (from TaskRatingChanged)."""
    return handlers.list_ratings(uow)


@ratings.get("/{exercise_id}", response_model=schemas.Rating, responses=_NOT_FOUND)
def get_rating(
    exercise_id: Annotated[str, Path(min_length=1, max_length=100)], uow: UnitOfWorkDep
) -> Rating:
    """The newest rating of one exercise; 404 when none has been received."""
    return handlers.get_rating(exercise_id, uow)


@ledger.get("/totals", response_model=schemas.LedgerTotals)
def ledger_totals(uow: UnitOfWorkDep) -> LedgerTotals:
    """Per manager, the sums and counts of bonuses, fines and payments in the ledger.

    Reconciliation and the simulator compare these with what hiring and exercises issued.
    Fines are the positive amounts issued; balance_cents = bonus - fine + payment.
    """
    return handlers.ledger_totals(uow)


ROUTERS = (accounts, ratings, ledger, money_calls)
