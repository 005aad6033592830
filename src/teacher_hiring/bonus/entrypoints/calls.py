"""The synchronous end of the money links (COMM-040, 050, 080 in sync mode)."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from teacher_hiring.bonus.adapters.repository import BonusRepository
from teacher_hiring.bonus.service_layer.handlers import Outcome
from teacher_hiring.bonus.service_layer.money_calls import MoneyEventRefused, receive_money_call
from teacher_hiring.messaging.envelope import MalformedEvent
from teacher_hiring.messaging.registry import SchemaViolation
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.messaging.wire import RecordCodec
from teacher_hiring.runtime import auth
from teacher_hiring.runtime.http import pushed_event_body
from teacher_hiring.runtime.service import ServiceRuntime

money_calls = APIRouter(prefix="/api/v0", tags=["money links"], dependencies=[auth.SERVICE])


class MoneyCallResult(BaseModel):
    applied: bool = Field(description="This call made the ledger entry")
    outcome: str = Field(
        description="applied, or duplicate: the event id or its business key was already in"
    )


async def _raw_body(request: Request) -> bytes:
    return await request.body()


def _runtime(request: Request) -> ServiceRuntime:
    return cast(ServiceRuntime, request.app.state.runtime)


@money_calls.post(
    "/money",
    response_model=MoneyCallResult,
    responses={
        403: {
            "description": "NotTheProducer: the token names a service that does not produce "
            "this event"
        },
        409: {"description": "BusinessKeyConflict: the key is in with another amount or manager"},
        422: {"description": "Not a valid BonusAdded, FineAdded or PaymentCommited envelope"},
    },
    openapi_extra=pushed_event_body("BonusAdded, FineAdded or PaymentCommited"),
)
def receive_money(
    body: Annotated[bytes, Depends(_raw_body)],
    request: Request,
    runtime: Annotated[ServiceRuntime, Depends(_runtime)],
    caller: auth.ClaimsDep,
) -> MoneyCallResult:
    """Credit a bonus or payment, or debit a fine, now: the old wiring's synchronous call.

    hiring (bonuses, fines) and exercises (payments) call it when their link is in sync mode;
    each only with the money it produces (schemas/events.yaml): the service token of any other
    service is 403 and nothing is booked.
    The event is claimed in the inbox of the money consumer and booked by the same handler and
    business key, so the same money sent by the call and by the log is one ledger entry.
    """
    try:
        envelope = RecordCodec(runtime.registry).decode_http(body, request.headers)
        runtime.registry.validate(envelope.as_dict())
    except (MalformedEvent, SchemaViolation) as exc:
        raise MoneyEventRefused(str(exc), problem=type(exc).__name__) from exc
    owner = runtime.registry.spec(envelope.event_name).producer
    outcome = receive_money_call(
        envelope, caller.subject, owner, UnitOfWork(runtime.engine, BonusRepository)
    )
    return MoneyCallResult(applied=outcome is Outcome.APPLIED, outcome=outcome.value)
