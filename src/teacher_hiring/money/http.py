"""The operator endpoints of a producer of money (hiring, exercises): what it issued, and
re-sending some of it under the original event ids (reconciliation's repair)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from teacher_hiring.foundation.pages import (
    Window,
    decode_cursor,
    encode_cursor,
    now_text,
)
from teacher_hiring.foundation.sql import read_only
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.messaging.restage import Resent
from teacher_hiring.money import issued
from teacher_hiring.runtime import auth
from teacher_hiring.runtime.page_params import BAD_PARAMETER, PageQueryDep, answering_422
from teacher_hiring.runtime.service import ServiceRuntime

MAX_RESEND = 1000


@dataclass(frozen=True)
class IssuedMoney:
    """What the routes need: the service's database and outbox, and how long money is kept."""

    producer: str
    engine: Engine
    outbox: Outbox
    retention_s: float


def install(app: FastAPI, runtime: ServiceRuntime, retention_s: float) -> None:
    """Add the routes to a producer's app, and forgetting old records to its maintenance."""
    app.state.issued_money = IssuedMoney(runtime.name, runtime.engine, runtime.outbox, retention_s)
    runtime.purges["issued_money"] = lambda: issued.purge(runtime.engine, retention_s)
    # Operators, and bonus's reconciliation asking with its service token.
    app.include_router(router, dependencies=[auth.OPERATOR_OR_SERVICE])


def _issued_money(request: Request) -> IssuedMoney:
    found: IssuedMoney = request.app.state.issued_money
    return found


IssuedMoneyDep = Annotated[IssuedMoney, Depends(_issued_money)]


class IssuedItem(BaseModel):
    event_id: str
    event_name: str = Field(description="BonusAdded, FineAdded or PaymentCommited")
    event_version: int
    producer: str
    produced_at: str
    trace_id: str
    manager_id: str
    amount_cents: int = Field(description="As the event states it (a fine is positive here)")
    occurred_at: str = Field(description="When the money was issued, UTC; the window's clock")
    payload: dict[str, Any] = Field(description="The event's payload as it was sent")


class IssuedPage(BaseModel):
    producer: str
    kept_since: str = Field(
        description="Money issued before this moment may have been forgotten (money retention)"
    )
    items: list[IssuedItem]
    next: str | None = Field(description="Cursor of the next page (`after`); null on the last")


EventId = Annotated[str, Field(min_length=1, max_length=36)]


class ResendRequest(BaseModel):
    event_ids: list[EventId] = Field(min_length=1, max_length=MAX_RESEND)


class ResendOutcome(BaseModel):
    event_id: str
    outcome: Resent = Field(
        description="restaged: in the outbox again under its own id; pending: its row was not "
        "sent yet; unknown: not issued here, or forgotten since"
    )


class ResendResult(BaseModel):
    producer: str
    items: list[ResendOutcome]


router = APIRouter(prefix="/operator/money-issued", tags=["operator"])


@router.get("", response_model=IssuedPage, responses=BAD_PARAMETER)
def money_issued(money: IssuedMoneyDep, page: PageQueryDep) -> IssuedPage:
    """The money events this service issued whose occurred_at is in [since, until), oldest
    first, one page at a time: kept after sending for the money retention period."""
    with answering_422():
        window = Window.parse(page.since, page.until)
        cursor = None if page.after is None else decode_cursor(page.after, str)
    query = issued.IssuedQuery(
        since=window.since,
        until=window.until,
        manager_id=page.manager_id,
        after=None if cursor is None else (cursor[0], str(cursor[1])),
        limit=page.limit,
    )
    with read_only(money.engine) as conn:
        items = issued.page(conn, query)
    last = items[-1] if len(items) == page.limit else None
    return IssuedPage(
        producer=money.producer,
        kept_since=now_text(minus_s=money.retention_s),
        items=[IssuedItem(**item) for item in items],
        next=None if last is None else encode_cursor(last["occurred_at"], last["event_id"]),
    )


@router.post("/resend", response_model=ResendResult)
def resend(body: ResendRequest, money: IssuedMoneyDep) -> ResendResult:
    """Stage these money events again in the outbox, each under its original event id, so the
    relay delivers them once more; the bonus inbox and the ledger's business keys make a copy
    that was not needed change nothing. Idempotent: resend as often as you like."""
    with money.engine.begin() as conn:
        outcomes = issued.restage(conn, money.outbox, body.event_ids)
    return ResendResult(
        producer=money.producer,
        items=[ResendOutcome(event_id=k, outcome=v) for k, v in outcomes.items()],
    )
