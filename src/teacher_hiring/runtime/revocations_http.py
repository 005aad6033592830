"""`POST /operator/revocations`: refuse every token of a person minted until now, on this
service (runtime/revocations.py). `teacher-hiring token revoke` calls it on every service."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from teacher_hiring.runtime.revocations import MAX_SUBJECT, Revocations
from teacher_hiring.runtime.tokens import Role


class Revocation(BaseModel):
    role: Literal["candidate", "manager", "operator"] = Field(
        description="Whose tokens: a candidate's, a manager's or an operator's"
    )
    subject: str = Field(
        min_length=1,
        max_length=MAX_SUBJECT,
        pattern=r"\S",
        description="The candidate's or manager's id, the operator's name (the tokens' `sub`)",
        examples=["5b0e7f7e-2f0a-4c55-9c55-1f2d3c4b5a69"],
    )


class Revoked(Revocation):
    not_before: float = Field(
        description="Tokens of this subject minted at or before this time (epoch seconds) are "
        "refused from now on, by every instance of this service within a second"
    )


router = APIRouter(prefix="/operator/revocations", tags=["operator"])


def _revocations(request: Request) -> Revocations:
    revocations: Revocations | None = request.app.state.runtime.revocations
    if revocations is None:
        raise RuntimeError("this service was built without revocations (assemble)")
    return revocations


RevocationsDep = Annotated[Revocations, Depends(_revocations)]


@router.post("", response_model=Revoked)
def revoke(revocation: Revocation, revocations: RevocationsDep) -> Revoked:
    """Refuse this person's existing tokens: every one minted until now."""
    at = revocations.revoke(Role(revocation.role), revocation.subject)
    return Revoked(role=revocation.role, subject=revocation.subject, not_before=at)
