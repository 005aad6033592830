"""The consumer groups of the exercises service: parse each event and call its handler.

The runner has already claimed the event in the inbox, in the transaction it passes here; a
handler that raises is retried, then dead-lettered. Leak reports are read at v2: a v1 one
reaches the handler with no evidence (`completed_by: []`), a v0 one also with the version
hiring's records say it concerned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from teacher_hiring.events.hiring import LeakedVersion, leak_steps
from teacher_hiring.exercises.domain import commands
from teacher_hiring.exercises.domain.model import CandidateSnapshot, ComplicationRules
from teacher_hiring.exercises.domain.reviews import Completion
from teacher_hiring.exercises.service_layer import handlers
from teacher_hiring.exercises.service_layer.ports import ExercisesRepository
from teacher_hiring.foundation.sealing import is_sealed
from teacher_hiring.foundation.time import epoch_seconds
from teacher_hiring.messaging.consumer import EventHandler, Subscription
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.messaging.upcasting import Upcaster

CANDIDATES_GROUP = "exercises.candidates"
COMPLETIONS_GROUP = handlers.COMPLETIONS_CONSUMER

UowFactory = Callable[[Connection], UnitOfWork[ExercisesRepository]]


def subscriptions(uow_on: UowFactory, rules: ComplicationRules) -> list[Subscription]:
    """`uow_on(conn)` gives a unit of work joining the runner's transaction, which the runner
    commits."""

    def on_leak(envelope: Envelope, conn: Connection) -> None:
        with uow_on(conn) as uow:
            handlers.open_complication_assignment(leak_report(envelope), uow, rules)

    def on_candidate_created(envelope: Envelope, conn: Connection) -> None:
        with uow_on(conn) as uow:
            handlers.record_candidate_created(created_candidate(envelope.payload), uow)

    def on_candidate_updated(envelope: Envelope, conn: Connection) -> None:
        with uow_on(conn) as uow:
            handlers.record_candidate_updated(updated_candidate(envelope.payload), uow)

    def on_candidate_erased(envelope: Envelope, conn: Connection) -> None:
        payload = envelope.payload
        with uow_on(conn) as uow:
            erased_at = epoch_seconds(payload["erased_at"])
            handlers.record_candidate_erased(payload["candidate_id"], erased_at, uow)

    return [
        Subscription(
            CANDIDATES_GROUP,
            {
                "CandidateCreated": EventHandler(on_candidate_created),
                "CandidateUpdated": EventHandler(on_candidate_updated),
                "CandidateErased": EventHandler(on_candidate_erased),
            },
        ),
        Subscription(COMPLETIONS_GROUP, {handlers.LEAK_EVENT: EventHandler(on_leak, version=2)}),
    ]


def upcaster(leaked_version: LeakedVersion) -> Upcaster:
    """The steps these groups need: hiring's v0 and v1 leak reports read as v2, asking
    `leaked_version` (hiring's records) which exercise version a v0 one concerned."""
    return Upcaster.of(leak_steps(leaked_version))


def leak_report(envelope: Envelope) -> commands.OpenComplicationAssignment:
    """A v2 report; its `produced_at` is hiring's clock and decides nothing here."""
    payload = envelope.payload
    return commands.OpenComplicationAssignment(
        exercise_id=payload["exercise_id"],
        exercise_version=payload["exercise_version"],
        title=payload["title"],
        author_id=payload["author_id"],
        candidate_id=payload["candidate_id"],
        event_id=envelope.event_id,
        completed_by=tuple(Completion.of(item) for item in payload["completed_by"]),
    )


def created_candidate(payload: dict[str, Any]) -> CandidateSnapshot:
    created_at = epoch_seconds(payload["created_at"])
    return CandidateSnapshot(
        candidate_id=payload["candidate_id"],
        name=replica_name(payload["candidate_name"]),
        status=payload["status"],
        exercises_to_solve=_ids(payload.get("exercises_to_solve", [])),
        exercises_solved=(),
        created_at=created_at,
        updated_at=created_at,
    )


def updated_candidate(payload: dict[str, Any]) -> CandidateSnapshot:
    return CandidateSnapshot(
        candidate_id=payload["candidate_id"],
        name=replica_name(payload["candidate_name"]),
        status=payload["status"],
        exercises_to_solve=_ids(payload["exercises_to_solve"]),
        exercises_solved=_ids(payload["exercises_solved"]),
        created_at=None,
        updated_at=epoch_seconds(payload["updated_at"]),
    )


def replica_name(value: str) -> str:
    """The name as the replica keeps it: hiring seals names under keys only it holds, so a
    sealed one is kept as "" (managers read names on hiring); an event from before sealing
    carries the name in clear."""
    return "" if is_sealed(value) else value


def _ids(refs: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(str(ref["exercise_id"]) for ref in refs)
