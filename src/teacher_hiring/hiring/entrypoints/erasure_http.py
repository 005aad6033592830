"""The operators' erasure of a candidate's personal data (docs/security.md, erasure)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from teacher_hiring.hiring.domain import commands
from teacher_hiring.hiring.entrypoints.deps import HiringDep
from teacher_hiring.hiring.service_layer import erasure
from teacher_hiring.runtime import auth

router = APIRouter(tags=["erasure"], dependencies=[auth.OPERATOR])


class ErasureOut(BaseModel):
    candidate_id: str
    erased_at: str = Field(description="When the candidate was erased (RFC 3339)")
    already: bool = Field(description="True: erased before; this call changed nothing")
    answers_erased: int = Field(description="How many answers this call erased")


@router.post(
    "/operator/candidates/{candidate_id}/erase",
    response_model=ErasureOut,
    responses={404: {"description": "CandidateNotFound"}},
)
def erase_candidate(candidate_id: str, hiring: HiringDep) -> ErasureOut:
    """Erase a candidate's name, email and answers everywhere; operator only.

    In hiring's tables the name reads `(erased)`, the email an address of no one, each answer
    empty; the key that sealed the candidate's name in hiring's events is deleted, so those
    events, wherever they are kept, no longer give it; CandidateErased tells exercises to
    remove the name from its replica. The candidate can no longer submit (404). Money records
    hold ids and amounts only and are not touched. Erasing again answers 200 with
    `already: true`. The web pages' sign-in account is erased by the pages' own action or by
    `teacher-hiring erase candidate`.
    """
    done = erasure.erase_candidate(commands.EraseCandidate(candidate_id), hiring.uow())
    return ErasureOut.model_validate(done, from_attributes=True)
