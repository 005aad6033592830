"""Complication payments held for an operator's review (docs/security.md, issue 15).

The assignee's save closes the assignment; `handlers.edit_exercise` asks the domain whether its
payment is held (`domain.reviews.payment_evidence`), and either pays it at once
(`commit_payment`) or puts it in the queue (`hold`). An operator's decision
(`decide_payment`) pays a held payment once, or never.
"""

from __future__ import annotations

from dataclasses import replace

import structlog

from teacher_hiring.exercises.domain import commands
from teacher_hiring.exercises.domain.errors import UnknownPaymentReview
from teacher_hiring.exercises.domain.model import Payment
from teacher_hiring.exercises.domain.reviews import PaymentEvidence, PaymentReview
from teacher_hiring.exercises.service_layer import events
from teacher_hiring.exercises.service_layer.ports import ExercisesRepository
from teacher_hiring.exercises.service_layer.results import PaymentDecision
from teacher_hiring.foundation.ids import new_id
from teacher_hiring.messaging.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)


def commit_payment(
    uow: UnitOfWork[ExercisesRepository], payment: Payment, now: float
) -> Payment | None:
    """Record the payment and stage its PaymentCommited; None if the assignment was paid."""
    if not uow.repo.add_payment(payment, now):
        return None
    uow.stage(events.PAYMENT_COMMITED, events.payment_payload(payment, now))
    return payment


def hold(
    uow: UnitOfWork[ExercisesRepository],
    payment: Payment,
    evidence: PaymentEvidence,
    now: float,
) -> PaymentReview | None:
    """Put the payment in the review queue instead of paying it; nothing is published."""
    review = PaymentReview(
        id=new_id(),
        assignment_id=payment.assignment_id,
        manager_id=payment.manager_id,
        amount_cents=payment.amount_cents,
        exercise_id=payment.exercise_id,
        exercise_version=payment.exercise_version,
        completions=evidence.completions,
        own_completions=evidence.own_completions,
        registered_by_manager=evidence.registered_by_manager,
        same_origin=evidence.same_origin,
        held_at=now,
    )
    if not uow.repo.add_review(review):
        return None
    log.info(
        "payment.held_for_review",
        review_id=review.id,
        assignment_id=review.assignment_id,
        manager_id=review.manager_id,
        completions=evidence.completions,
        own_completions=evidence.own_completions,
    )
    return review


def decide_payment(
    cmd: commands.DecidePayment, uow: UnitOfWork[ExercisesRepository]
) -> PaymentDecision:
    """An operator's decision on a held payment. Approving pays it: the payment row and its
    PaymentCommited in this same transaction. The same decision again answers the review as
    it stands and pays nothing more; the other decision taken already is 409.

    The review stays locked until the commit (PostgreSQL): two approvals at once (two
    instances) take turns, and the second finds it approved. The payment's unique key per
    assignment stands behind that.
    """
    review = uow.repo.get_review(cmd.review_id, lock=True)
    if review is None:
        raise UnknownPaymentReview("review_id", cmd.review_id)
    now = uow.clock()
    decided = review.decided(cmd.decision, cmd.decided_by, now, cmd.reason)
    if decided is None:
        return PaymentDecision(review, None)
    payment = None
    if decided.status == "approved":
        payment = Payment(
            id=new_id(),
            assignment_id=review.assignment_id,
            manager_id=review.manager_id,
            amount_cents=review.amount_cents,
            exercise_id=review.exercise_id,
            exercise_version=review.exercise_version,
        )
        decided = replace(decided, payment_id=payment.id)
    if not uow.repo.decide_review(decided):  # decided meanwhile (SQLite reads no lock)
        return decide_payment(cmd, uow)
    if payment is not None:
        payment = commit_payment(uow, payment, now)
    log.info(
        "payment.review_decided",
        review_id=review.id,
        decision=decided.status,
        paid=payment is not None,
    )
    return PaymentDecision(decided, payment)
