"""Read-only queries feeding the GET routes; they return plain dicts shaped for the API."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from teacher_hiring.exercises.adapters.repository import open_assignments_by_manager
from teacher_hiring.exercises.adapters.tables import (
    candidates,
    complication_assignments,
    exercise_versions,
    exercises,
    managers,
    payments,
)
from teacher_hiring.exercises.domain.model import full_name
from teacher_hiring.foundation.time import rfc3339
from teacher_hiring.messaging.tables import outbox


def managers_list(conn: Connection, limit: int, offset: int) -> list[dict[str, Any]]:
    query = _managers_query().order_by(managers.c.created_at, managers.c.id)
    return [_manager(row) for row in conn.execute(query.limit(limit).offset(offset))]


def manager(conn: Connection, manager_id: str) -> dict[str, Any] | None:
    row = conn.execute(_managers_query().where(managers.c.id == manager_id)).first()
    return None if row is None else _manager(row)


def exercises_list(
    conn: Connection, author_id: str | None, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    query = sa.select(exercises).order_by(exercises.c.created_at, exercises.c.id)
    if author_id is not None:
        query = query.where(exercises.c.author_id == author_id)
    if status is not None:
        query = query.where(exercises.c.status == status)
    return [_exercise(row) for row in conn.execute(query.limit(limit).offset(offset))]


def exercise(conn: Connection, exercise_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(exercises).where(exercises.c.id == exercise_id)).first()
    return None if row is None else _exercise(row)


def exercise_history(conn: Connection, exercise_id: str) -> list[dict[str, Any]]:
    query = (
        sa.select(exercise_versions)
        .where(exercise_versions.c.exercise_id == exercise_id)
        .order_by(exercise_versions.c.version)
    )
    return [
        {
            "exercise_id": row.exercise_id,
            "version": row.version,
            "title": row.title,
            "statement": row.statement,
            "accepted_answers": list(row.accepted_answers),
            "check_mode": row.check_mode,
            "subject": row.subject,
            "difficulty": row.difficulty,
            "edited_by": row.edited_by,
            "saved_at": rfc3339(row.saved_at),
        }
        for row in conn.execute(query)
    ]


def assignments_list(
    conn: Connection, assignee_id: str | None, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    query = sa.select(complication_assignments).order_by(
        complication_assignments.c.opened_at, complication_assignments.c.id
    )
    if assignee_id is not None:
        query = query.where(complication_assignments.c.assignee_id == assignee_id)
    if status is not None:
        query = query.where(complication_assignments.c.status == status)
    return [_assignment(row) for row in conn.execute(query.limit(limit).offset(offset))]


def assignment(conn: Connection, assignment_id: str) -> dict[str, Any] | None:
    query = sa.select(complication_assignments).where(
        complication_assignments.c.id == assignment_id
    )
    row = conn.execute(query).first()
    return None if row is None else _assignment(row)


def candidates_list(
    conn: Connection, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    query = sa.select(candidates).order_by(candidates.c.updated_at, candidates.c.candidate_id)
    if status is not None:
        query = query.where(candidates.c.status == status)
    return [
        {
            "candidate_id": row.candidate_id,
            "name": row.name,
            "status": row.status,
            "exercises_to_solve": [{"exercise_id": e} for e in row.exercises_to_solve],
            "exercises_solved": [{"exercise_id": e} for e in row.exercises_solved],
            "created_at": None if row.created_at is None else rfc3339(row.created_at),
            "updated_at": rfc3339(row.updated_at),
        }
        for row in conn.execute(query.limit(limit).offset(offset))
    ]


def issued_totals(conn: Connection) -> list[dict[str, Any]]:
    """Per manager, the payments this service issued (what the ledger must hold)."""
    query = (
        sa.select(
            managers.c.id,
            sa.func.coalesce(sa.func.sum(payments.c.amount_cents), 0),
            sa.func.count(payments.c.id),
        )
        .select_from(managers.outerjoin(payments, payments.c.manager_id == managers.c.id))
        .group_by(managers.c.id)
        .order_by(managers.c.id)
    )
    return [
        {"manager_id": manager_id, "payment_cents": int(cents), "payment_count": int(count)}
        for manager_id, cents, count in conn.execute(query)
    ]


def event_sent(conn: Connection, event_id: str) -> bool:
    """Whether the relay has delivered the outbox row of this event."""
    query = sa.select(outbox.c.sent_at).where(outbox.c.event_id == event_id)
    return conn.execute(query).scalar_one_or_none() is not None


def _managers_query() -> sa.Select[Any]:
    open_counts = open_assignments_by_manager()
    return sa.select(
        managers, sa.func.coalesce(open_counts.c.n, 0).label("open_assignments")
    ).select_from(managers.outerjoin(open_counts, open_counts.c.assignee_id == managers.c.id))


def _manager(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "name": full_name(row.first_name, row.last_name),
        "team": row.team,
        "email": row.email,
        "open_assignments": int(row.open_assignments),
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    }


def _exercise(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "statement": row.statement,
        "accepted_answers": list(row.accepted_answers),
        "check_mode": row.check_mode,
        "subject": row.subject,
        "difficulty": row.difficulty,
        "author_id": row.author_id,
        "version": row.version,
        "status": row.status,
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    }


def _assignment(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "exercise_id": row.exercise_id,
        "exercise_version": row.exercise_version,
        "assignee_id": row.assignee_id,
        "status": row.status,
        "opened_at": rfc3339(row.opened_at),
        "closed_at": None if row.closed_at is None else rfc3339(row.closed_at),
        "closed_with_version": row.closed_with_version,
        "source_event_id": row.source_event_id,
    }
