"""The payloads of the events this service produces, built from domain objects (SPEC §4).

Exercise and manager events exist in two versions (US-160, US-170); which one is produced is
an operator's choice at run time (`EventVersions`, read from the runtime flags at every save).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from teacher_hiring.exercises.domain.model import Exercise, Manager, Payment
from teacher_hiring.foundation.time import rfc3339

MANAGER_CREATED = "ManagerCreated"
MANAGER_UPDATED = "ManagerUpdated"
EXERCISE_CREATED = "ExerciseCreated"
EXERCISE_UPDATED = "ExerciseUpdated"
PAYMENT_COMMITED = "PaymentCommited"  # the wire spelling of the seed documents

FAMILIES: dict[str, tuple[str, ...]] = {
    "exercise": (EXERCISE_CREATED, EXERCISE_UPDATED),
    "manager": (MANAGER_CREATED, MANAGER_UPDATED),
}
"""The event families whose produced version an operator switches, and their events."""
PRODUCIBLE_VERSIONS = (0, 1)
"""The versions this code can build the payload of."""


@dataclass(frozen=True)
class EventVersions:
    """The version of each family this service produces now."""

    exercise: int = 1
    manager: int = 1


def manager_payload(manager: Manager, version: int) -> dict[str, Any]:
    """v1: first and last name and team (US-170); v0: the full name, no team."""
    if version == 0:
        return {"manager_id": manager.id, "name": manager.name, "email": manager.email}
    return {
        "manager_id": manager.id,
        "first_name": manager.first_name,
        "last_name": manager.last_name,
        "team": manager.team,
        "email": manager.email,
    }


def exercise_payload(
    exercise: Exercise, saved_at: float, version: int, edited_by: str | None = None
) -> dict[str, Any]:
    """v1 carries subject and difficulty (US-160); v0 leaves them out."""
    payload: dict[str, Any] = {
        "exercise_id": exercise.id,
        "title": exercise.title,
        "statement": exercise.statement,
        "accepted_answers": list(exercise.accepted_answers),
        "check_mode": exercise.check_mode,
    }
    if version >= 1:
        payload["subject"] = exercise.subject
        payload["difficulty"] = exercise.difficulty
    payload |= {
        "author_id": exercise.author_id,
        "version": exercise.version,
        "status": exercise.status,
        "updated_at": rfc3339(saved_at),
    }
    if edited_by is not None:
        payload["edited_by"] = edited_by
    return payload


def payment_payload(payment: Payment, occurred_at: float) -> dict[str, Any]:
    return {
        "manager_id": payment.manager_id,
        "amount_cents": payment.amount_cents,
        "assignment_id": payment.assignment_id,
        "exercise_id": payment.exercise_id,
        "exercise_version": payment.exercise_version,
        "occurred_at": rfc3339(occurred_at),
    }
