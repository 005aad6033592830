"""The operators' review queue of complication payments (docs/security.md, "Payments held for
review"): list the held payments with their evidence, approve one (it is paid then, once) or
reject it (never paid; the reason is kept). Operators only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from teacher_hiring.exercises.adapters import views
from teacher_hiring.exercises.domain import commands
from teacher_hiring.exercises.domain.errors import UnknownPaymentReview
from teacher_hiring.exercises.domain.reviews import REASON_MAX, ReviewStatus
from teacher_hiring.exercises.entrypoints import schemas
from teacher_hiring.exercises.entrypoints.deps import Services, ServicesDep
from teacher_hiring.exercises.service_layer import reviews
from teacher_hiring.runtime import auth
from teacher_hiring.runtime.bad_requests import DB_INT_MAX

router = APIRouter(
    prefix="/operator/payment-reviews", tags=["payment reviews"], dependencies=[auth.OPERATOR]
)

Responses = dict[int | str, dict[str, Any]]
_404: Responses = {404: {"model": schemas.Error, "description": "No payment review with that id"}}
_409: Responses = {
    409: {
        "model": schemas.Error,
        "description": "ReviewAlreadyDecided: the other decision was taken already",
    }
}


class _Reply(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ReviewedCompletion(_Reply):
    candidate_id: str
    registered_by: str | None = Field(description="The manager whose token registered them")
    registered_by_manager: bool = Field(description="The assignee registered this candidate")
    same_origin: bool = Field(
        description="The candidate registered from an address the assignee's own requests came from"
    )


class PaymentReview(_Reply):
    id: str
    assignment_id: str
    manager_id: str = Field(description="The assignee, who would be paid")
    manager_name: str
    amount_cents: int = Field(description="The payment held, in cents")
    exercise_id: str
    exercise_title: str
    exercise_version: int = Field(description="The version whose save closed the assignment")
    leaked_version: int = Field(description="The version reported leaked")
    completions: int = Field(description="Completions the leak report named")
    own_completions: int = Field(
        description="Of those, the assignee's own: registered by them or from their address"
    )
    registered_by_manager: int
    same_origin: int
    status: Literal["pending", "approved", "rejected"]
    held_at: str
    decided_at: str | None
    decided_by: str | None = Field(description="The operator who decided")
    reason: str | None
    payment_id: str | None = Field(description="The payment an approval made")
    completed_by: list[ReviewedCompletion]


class Decision(BaseModel):
    reason: str | None = Field(
        None, max_length=REASON_MAX, description="Why (required to reject; kept with the review)"
    )


class Rejection(BaseModel):
    reason: str = Field(min_length=1, max_length=REASON_MAX, description="Why it is not paid")


@router.get("", response_model=list[PaymentReview])
def list_reviews(
    services: ServicesDep,
    status: Literal["pending", "approved", "rejected"] | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=DB_INT_MAX)] = 0,
) -> list[PaymentReview]:
    """Complication payments held for review, oldest first, optionally in one status, each
    with the completions the leak report named and which of them were the assignee's own."""
    with services.reading() as conn:
        rows = views.payment_reviews_list(conn, status, limit, offset)
    return [PaymentReview.model_validate(row) for row in rows]


@router.get("/{review_id}", response_model=PaymentReview, responses=_404)
def get_review(review_id: str, services: ServicesDep) -> PaymentReview:
    """One held payment, with its evidence and what became of it."""
    return _review(services, review_id)


@router.post("/{review_id}/approve", response_model=PaymentReview, responses=_404 | _409)
def approve(
    review_id: str, services: ServicesDep, caller: auth.ClaimsDep, body: Decision | None = None
) -> PaymentReview:
    """Pay the held payment: `PaymentCommited` is published through the outbox in the same
    transaction as the decision. Approving again answers the review as it stands and pays
    nothing more (two operators, or two instances, at once: one payment); approving a
    rejected payment is 409."""
    return _decide(
        services, review_id, "approved", caller.subject, None if body is None else body.reason
    )


@router.post("/{review_id}/reject", response_model=PaymentReview, responses=_404 | _409)
def reject(
    review_id: str, body: Rejection, services: ServicesDep, caller: auth.ClaimsDep
) -> PaymentReview:
    """Never pay it; the reason is kept. The assignment stays closed. Rejecting again answers
    the review as it stands; rejecting an approved payment is 409."""
    return _decide(services, review_id, "rejected", caller.subject, body.reason)


def _decide(
    services: Services, review_id: str, decision: ReviewStatus, by: str, reason: str | None
) -> PaymentReview:
    cmd = commands.DecidePayment(review_id, decision, by, reason)
    with services.uow() as uow:
        decided = reviews.decide_payment(cmd, uow)
        uow.commit()
    if decided.payment is not None:
        services.call_now(uow.staged, done="the payment is approved and committed")
    return _review(services, review_id)


def _review(services: Services, review_id: str) -> PaymentReview:
    with services.reading() as conn:
        found = views.payment_review(conn, review_id)
    if found is None:
        raise UnknownPaymentReview("review_id", review_id)
    return PaymentReview.model_validate(found)
