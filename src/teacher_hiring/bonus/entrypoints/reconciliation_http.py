"""Operator routes of reconciliation: the ledger page by page, the comparison, the repair."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from teacher_hiring.bonus.adapters.views import UnitOfWorkLedger
from teacher_hiring.bonus.entrypoints import reconciliation_schemas as schemas
from teacher_hiring.bonus.entrypoints.deps import ReconcilerDep, UnitOfWorkDep
from teacher_hiring.bonus.service_layer import reconciliation
from teacher_hiring.bonus.service_layer.reconciliation import ReconcileQuery
from teacher_hiring.bonus.service_layer.results import LedgerPage, RepairResult, Report
from teacher_hiring.runtime.page_params import (
    BAD_PARAMETER,
    ManagerFilter,
    PageQueryDep,
    Since,
    Until,
    answering_422,
)

router = APIRouter(prefix="/operator", tags=["operator"])

_PRODUCER_DOWN: dict[int | str, dict[str, Any]] = {
    **BAD_PARAMETER,
    502: {
        "model": schemas.ProducerError,
        "description": "A producer answered with an error; the body names it (`producer`)",
    },
    503: {
        "model": schemas.ProducerError,
        "description": "A producer did not answer in time; the body names it (`producer`)",
    },
}


def _query(
    since: Since = None, until: Until = None, manager_id: ManagerFilter = None
) -> ReconcileQuery:
    """The window and the manager every route of reconciliation takes."""
    return ReconcileQuery(since=since, until=until, manager_id=manager_id)


QueryDep = Annotated[ReconcileQuery, Depends(_query)]


@router.get("/ledger-entries", response_model=schemas.LedgerPage, responses=BAD_PARAMETER)
def ledger_entries(uow: UnitOfWorkDep, page: PageQueryDep) -> LedgerPage:
    """The ledger's entries whose occurred_at is in [since, until), oldest first, page by page
    (the same window and cursor as the producers' `/operator/money-issued`)."""
    query = _query(page.since, page.until, page.manager_id)
    with answering_422():
        return reconciliation.ledger_page(
            query, UnitOfWorkLedger(uow), after=page.after, limit=page.limit
        )


@router.get("/reconciliation", response_model=schemas.Report, responses=_PRODUCER_DOWN)
def reconcile(uow: UnitOfWorkDep, reconciler: ReconcilerDep, query: QueryDep) -> Report:
    """Compare, per manager, the money hiring and exercises issued in [since, until) with the
    ledger: missing from the ledger, in it but never issued (or under another event id for the
    same business key), another amount or manager.

    Both sides are filed under the moment the money was issued. `until` defaults to a short
    settling time ago (money on its way is not a difference), `since` to seven days before
    `until`, moved later if a producer no longer keeps older money (`window.clamped`).
    """
    with answering_422():
        return reconciliation.reconciliation(
            query, UnitOfWorkLedger(uow), reconciler.producers, reconciler.settle_s
        )


@router.post(
    "/reconciliation/repair", response_model=schemas.RepairResult, responses=_PRODUCER_DOWN
)
def repair(uow: UnitOfWorkDep, reconciler: ReconcilerDep, query: QueryDep) -> RepairResult:
    """Reconcile as GET does, then have the producers re-send what is missing from the ledger,
    each under its original event id, through their outbox and the usual relay.

    Repairing twice, or repairing money that was only late, doubles nothing: the inbox drops an
    event id already applied, the ledger's business key a second copy of the same money. An
    entry nobody issued is reported, never deleted (the ledger is append-only). The answer is
    the report before the repair and what each producer did; reconcile again to see the result.
    """
    with answering_422():
        return reconciliation.repair(
            query, UnitOfWorkLedger(uow), reconciler.producers, reconciler.settle_s
        )
