"""The operators' review queue of complication payments (docs/security.md, "Payments held for
review").

Included in the operators' router (prefix /operator). The list shows each held payment with
its evidence: how many of the leak's completions were the assignee's own, and why. Approving
or rejecting is two POSTs, as every operator change: the first shows the payment and asks to
confirm (a rejection with its reason); the second has exercises decide, and shows the result.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web import staff_api
from teacher_hiring.web.api import Refused
from teacher_hiring.web.auth import CSRF, Person, require_role
from teacher_hiring.web.pages.common import calls_of, confirm_then_act, form_errors
from teacher_hiring.web.rendering import render

router = APIRouter(dependencies=[Depends(require_role(Role.operator))])

OperatorDep = Annotated[Person, Depends(require_role(Role.operator))]
FormText = Annotated[str, Form()]
LIST, DECIDE = "operators/payment_reviews.html", "operators/payment_review.html"
STATUSES = ("pending", "approved", "rejected")
DECISIONS = {"approve": "Approve", "reject": "Reject"}
REASON_MAX = 2000


@router.get("/payment-reviews")
def reviews_page(request: Request, person: OperatorDep, status: str = "pending") -> Response:
    """The held payments (pending by default), oldest first, with their evidence."""
    wanted = status if status in STATUSES else None
    found = staff_api.payment_reviews(calls_of(request, person), wanted)
    context = {"title": "Payments held for review", "reviews": found, "status": wanted}
    return render(request, LIST, context)


@router.post("/payment-reviews/{review_id}", dependencies=[CSRF])
def decide(
    request: Request,
    person: OperatorDep,
    review_id: str,
    decision: FormText = "",
    reason: FormText = "",
    confirm: FormText = "",
) -> Response:
    """Confirm first (the payment, its evidence, the reason), then approve or reject."""
    calls = calls_of(request, person)
    reason = reason.strip()
    if decision not in DECISIONS:
        raise Refused("web", 404, {"detail": f"There is no decision {decision!r}."})
    review = staff_api.payment_review(calls, review_id)
    context: dict[str, Any] = {
        "title": f"{DECISIONS[decision]} a held payment",
        "review": review,
        "decision": decision,
        "reason": reason,
        "done": None,
    }
    problem = _reason_problem(decision, reason)
    if problem:
        return form_errors(request, DECIDE, context, {"reason": problem})

    def ask() -> dict[str, Any]:
        return context

    def act() -> dict[str, Any] | Response:
        try:
            done = staff_api.decide_payment(calls, review_id, decision, reason)
        except Refused as exc:
            if exc.status != 409:
                raise
            return form_errors(request, DECIDE, context, {"form": exc.message}, status_code=409)
        return context | {"done": done, "review": done}

    return confirm_then_act(request, DECIDE, confirm, ask=ask, act=act)


def _reason_problem(decision: str, reason: str) -> str | None:
    if decision == "reject" and not reason:
        return "Say why this payment is rejected: the manager's record keeps it."
    if len(reason) > REASON_MAX:
        return f"At most {REASON_MAX} characters."
    return None
