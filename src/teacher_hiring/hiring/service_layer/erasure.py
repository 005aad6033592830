"""A candidate's personal data: their name sealed in events, and erasing them everywhere.

hiring owns candidates, and is the only service that reads their name: the events it produces
carry `candidate_name` sealed under the candidate's own key (foundation/sealing), which never
leaves hiring. Erasing a candidate replaces their name, email and answers in hiring's tables,
deletes the key (so every copy of their events, in the log, a dead-letter topic or the outbox,
no longer opens) and publishes CandidateErased, on which exercises empties its replica.
Money is untouched: the ledger's entries and the records of issued money hold ids and amounts.
"""

from __future__ import annotations

from teacher_hiring.foundation.sealing import seal
from teacher_hiring.foundation.time import rfc3339
from teacher_hiring.hiring.domain import commands
from teacher_hiring.hiring.domain.errors import CandidateNotFound
from teacher_hiring.hiring.service_layer.ports import Repository
from teacher_hiring.hiring.service_layer.results import Erasure
from teacher_hiring.messaging.unit_of_work import UnitOfWork

ERASED_EVENT = "CandidateErased"


def sealed_name(uow: UnitOfWork[Repository], candidate_id: str, name: str, at: float) -> str:
    """The name as an event carries it: sealed under the candidate's key."""
    return seal(uow.repo.person_key(candidate_id, at), candidate_id, name)


def erase_candidate(cmd: commands.EraseCandidate, uow: UnitOfWork[Repository]) -> Erasure:
    """Erase once; erasing again changes nothing and says when it was done."""
    with uow:
        exists, erased_at = uow.repo.candidate_erased_at(cmd.candidate_id)
        if not exists:
            raise CandidateNotFound(f"candidate_id: no candidate {cmd.candidate_id}")
        if erased_at is not None:
            return Erasure(cmd.candidate_id, rfc3339(erased_at), already=True, answers_erased=0)
        now = uow.clock()
        answers = uow.repo.erase_candidate(cmd.candidate_id, now)
        uow.stage(ERASED_EVENT, {"candidate_id": cmd.candidate_id, "erased_at": rfc3339(now)})
        uow.commit()
    return Erasure(cmd.candidate_id, rfc3339(now), already=False, answers_erased=answers)
