"""Read-only queries feeding the GET routes; they return typed rows shaped for the API
(times as RFC 3339 text), which the routes turn into their response bodies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from teacher_hiring.exercises.adapters import tables
from teacher_hiring.exercises.adapters.repository import open_assignments_by_manager
from teacher_hiring.exercises.domain.model import (
    CandidateSnapshot,
    CheckMode,
    ComplicationAssignment,
    ExerciseStatus,
    full_name,
)
from teacher_hiring.foundation.records import record_of
from teacher_hiring.foundation.time import rfc3339
from teacher_hiring.messaging.tables import outbox


@dataclass(frozen=True, slots=True)
class ManagerRow:
    """A manager, with the complication assignments they hold open."""

    id: str
    first_name: str
    last_name: str
    name: str
    team: str | None
    email: str
    open_assignments: int
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class ExerciseText:
    """What one version of an exercise says: the part every saved version keeps."""

    title: str
    statement: str
    accepted_answers: tuple[str, ...]
    check_mode: CheckMode
    subject: str
    difficulty: int


@dataclass(frozen=True, slots=True)
class ExerciseRow(ExerciseText):
    """The current version of an exercise."""

    id: str
    author_id: str
    version: int
    status: ExerciseStatus
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class ExerciseVersionRow(ExerciseText):
    """One saved version of an exercise, with who saved it and when."""

    exercise_id: str
    version: int
    edited_by: str
    saved_at: str


@dataclass(frozen=True, kw_only=True)
class AssignmentRow(ComplicationAssignment):
    """A complication assignment with when it opened and closed and the report that opened it."""

    opened_at: str
    closed_at: str | None
    source_event_id: str | None


@dataclass(frozen=True, slots=True)
class IssuedTotal:
    """What this service issued to one manager: the sum and the count of their payments."""

    manager_id: str
    payment_cents: int
    payment_count: int


def managers_list(conn: Connection, limit: int, offset: int) -> list[ManagerRow]:
    query = _managers_query().order_by(tables.managers.c.created_at, tables.managers.c.id)
    return [_manager(row) for row in conn.execute(query.limit(limit).offset(offset))]


def manager(conn: Connection, manager_id: str) -> ManagerRow | None:
    row = conn.execute(_managers_query().where(tables.managers.c.id == manager_id)).first()
    return None if row is None else _manager(row)


def exercises_list(
    conn: Connection, author_id: str | None, status: str | None, limit: int, offset: int
) -> list[ExerciseRow]:
    query = sa.select(tables.exercises).order_by(
        tables.exercises.c.created_at, tables.exercises.c.id
    )
    where = {tables.exercises.c.author_id: author_id, tables.exercises.c.status: status}
    return [_exercise(row) for row in _page(conn, query, where, limit, offset)]


def exercise(conn: Connection, exercise_id: str) -> ExerciseRow | None:
    row = conn.execute(
        sa.select(tables.exercises).where(tables.exercises.c.id == exercise_id)
    ).first()
    return None if row is None else _exercise(row)


def exercise_history(conn: Connection, exercise_id: str) -> list[ExerciseVersionRow]:
    query = (
        sa.select(tables.exercise_versions)
        .where(tables.exercise_versions.c.exercise_id == exercise_id)
        .order_by(tables.exercise_versions.c.version)
    )
    return [
        record_of(ExerciseVersionRow, row, saved_at=rfc3339(row.saved_at))
        for row in conn.execute(query)
    ]


def open_assignment_exercises(conn: Connection, assignee_id: str) -> set[str]:
    """The exercises whose open complication assignment this manager holds."""
    table = tables.complication_assignments
    query = sa.select(table.c.exercise_id).where(
        table.c.assignee_id == assignee_id, table.c.status == "open"
    )
    return set(conn.execute(query).scalars())


def assignments_list(
    conn: Connection, assignee_id: str | None, status: str | None, limit: int, offset: int
) -> list[AssignmentRow]:
    query = sa.select(tables.complication_assignments).order_by(
        tables.complication_assignments.c.opened_at, tables.complication_assignments.c.id
    )
    where = {
        tables.complication_assignments.c.assignee_id: assignee_id,
        tables.complication_assignments.c.status: status,
    }
    return [_assignment(row) for row in _page(conn, query, where, limit, offset)]


def assignment(conn: Connection, assignment_id: str) -> AssignmentRow | None:
    query = sa.select(tables.complication_assignments).where(
        tables.complication_assignments.c.id == assignment_id
    )
    row = conn.execute(query).first()
    return None if row is None else _assignment(row)


@dataclass(frozen=True, slots=True)
class CompletionRow:
    """One completion the leak report named, as the review shows it: whose, and whether it was
    the assignee's own (registered by them, or from one of their origins)."""

    candidate_id: str
    registered_by: str | None
    registered_by_manager: bool
    same_origin: bool


@dataclass(frozen=True, slots=True)
class PaymentReviewRow:
    """A held complication payment, with its evidence and what became of it."""

    id: str
    assignment_id: str
    manager_id: str
    manager_name: str
    amount_cents: int
    exercise_id: str
    exercise_title: str
    exercise_version: int
    leaked_version: int
    completions: int
    own_completions: int
    registered_by_manager: int
    same_origin: int
    status: str
    held_at: str
    decided_at: str | None
    decided_by: str | None
    reason: str | None
    payment_id: str | None
    completed_by: tuple[CompletionRow, ...]


def payment_reviews_list(
    conn: Connection, status: str | None, limit: int, offset: int
) -> list[PaymentReviewRow]:
    """Held payments, oldest first, optionally in one status."""
    query = _reviews_query().order_by(tables.payment_reviews.c.held_at, tables.payment_reviews.c.id)
    where = {tables.payment_reviews.c.status: status}
    return [_review(conn, row) for row in _page(conn, query, where, limit, offset)]


def payment_review(conn: Connection, review_id: str) -> PaymentReviewRow | None:
    row = conn.execute(_reviews_query().where(tables.payment_reviews.c.id == review_id)).first()
    return None if row is None else _review(conn, row)


def _reviews_query() -> sa.Select[Any]:
    r, a, m, e = (
        tables.payment_reviews,
        tables.complication_assignments,
        tables.managers,
        tables.exercises,
    )
    return sa.select(
        r,
        a.c.exercise_version.label("leaked_version"),
        a.c.completed_by,
        m.c.first_name,
        m.c.last_name,
        e.c.title.label("exercise_title"),
    ).select_from(
        r.join(a, a.c.id == r.c.assignment_id)
        .join(m, m.c.id == r.c.manager_id)
        .join(e, e.c.id == r.c.exercise_id)
    )


def _review(conn: Connection, row: Any) -> PaymentReviewRow:
    origins = set(
        conn.execute(
            sa.select(tables.manager_origins.c.origin).where(
                tables.manager_origins.c.manager_id == row.manager_id
            )
        ).scalars()
    )
    completed_by = tuple(
        CompletionRow(
            candidate_id=str(item["candidate_id"]),
            registered_by=item.get("registered_by"),
            registered_by_manager=item.get("registered_by") == row.manager_id,
            same_origin=item.get("origin") is not None and item.get("origin") in origins,
        )
        for item in row.completed_by or ()
    )
    return record_of(
        PaymentReviewRow,
        row,
        manager_name=full_name(row.first_name, row.last_name),
        held_at=rfc3339(row.held_at),
        decided_at=None if row.decided_at is None else rfc3339(row.decided_at),
        completed_by=completed_by,
    )


def candidates_list(
    conn: Connection, status: str | None, limit: int, offset: int
) -> list[CandidateSnapshot]:
    """The replica's candidates (times in epoch seconds, as hiring's events gave them)."""
    query = sa.select(tables.candidates).order_by(
        tables.candidates.c.updated_at, tables.candidates.c.candidate_id
    )
    rows = _page(conn, query, {tables.candidates.c.status: status}, limit, offset)
    return [record_of(CandidateSnapshot, row) for row in rows]


def issued_totals(conn: Connection) -> list[IssuedTotal]:
    """Per manager, the payments this service issued (what the ledger must hold)."""
    query = (
        sa.select(
            tables.managers.c.id,
            sa.func.coalesce(sa.func.sum(tables.payments.c.amount_cents), 0),
            sa.func.count(tables.payments.c.id),
        )
        .select_from(
            tables.managers.outerjoin(
                tables.payments, tables.payments.c.manager_id == tables.managers.c.id
            )
        )
        .group_by(tables.managers.c.id)
        .order_by(tables.managers.c.id)
    )
    return [
        IssuedTotal(manager_id, int(cents), int(count))
        for manager_id, cents, count in conn.execute(query)
    ]


def event_sent(conn: Connection, event_id: str) -> bool:
    """Whether the relay has delivered the outbox row of this event."""
    query = sa.select(outbox.c.sent_at).where(outbox.c.event_id == event_id)
    return conn.execute(query).scalar_one_or_none() is not None


def _page(
    conn: Connection,
    query: sa.Select[Any],
    where: Mapping[sa.Column[Any], object],
    limit: int,
    offset: int,
) -> sa.CursorResult[Any]:
    """One page of the query's rows, each column of `where` equal to its value; a value of
    None filters nothing."""
    for column, value in where.items():
        if value is not None:
            query = query.where(column == value)
    return conn.execute(query.limit(limit).offset(offset))


def _managers_query() -> sa.Select[Any]:
    open_counts = open_assignments_by_manager()
    return sa.select(
        tables.managers, sa.func.coalesce(open_counts.c.n, 0).label("open_assignments")
    ).select_from(
        tables.managers.outerjoin(open_counts, open_counts.c.assignee_id == tables.managers.c.id)
    )


def _manager(row: Any) -> ManagerRow:
    return record_of(
        ManagerRow,
        row,
        name=full_name(row.first_name, row.last_name),
        open_assignments=int(row.open_assignments),
        **_created_and_updated(row),
    )


def _exercise(row: Any) -> ExerciseRow:
    return record_of(ExerciseRow, row, **_created_and_updated(row))


def _assignment(row: Any) -> AssignmentRow:
    return record_of(
        AssignmentRow,
        row,
        opened_at=rfc3339(row.opened_at),
        closed_at=None if row.closed_at is None else rfc3339(row.closed_at),
    )


def _created_and_updated(row: Any) -> dict[str, str]:
    return {"created_at": rfc3339(row.created_at), "updated_at": rfc3339(row.updated_at)}
