"""The payloads of the events this service produces, built from domain objects (SPEC §4)."""

from __future__ import annotations

from typing import Any

from teacher_hiring.exercises.domain.clock import to_rfc3339
from teacher_hiring.exercises.domain.model import Exercise, Manager, Payment

MANAGER_CREATED = "ManagerCreated"
MANAGER_UPDATED = "ManagerUpdated"
EXERCISE_CREATED = "ExerciseCreated"
EXERCISE_UPDATED = "ExerciseUpdated"
PAYMENT_COMMITED = "PaymentCommited"  # the wire spelling of the seed documents


def manager_payload(manager: Manager) -> dict[str, Any]:
    return {"manager_id": manager.id, "name": manager.name, "email": manager.email}


def exercise_payload(
    exercise: Exercise, saved_at: float, edited_by: str | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "exercise_id": exercise.id,
        "title": exercise.title,
        "statement": exercise.statement,
        "accepted_answers": list(exercise.accepted_answers),
        "check_mode": exercise.check_mode,
        "author_id": exercise.author_id,
        "version": exercise.version,
        "status": exercise.status,
        "updated_at": to_rfc3339(saved_at),
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
        "occurred_at": to_rfc3339(occurred_at),
    }
