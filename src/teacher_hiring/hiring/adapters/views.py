"""Read-only queries behind the GET routes (never on the submission path)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from teacher_hiring.foundation.time import rfc3339
from teacher_hiring.hiring.adapters.tables import (
    attempt_counters,
    candidate_exercises,
    candidates,
    exercise_version_stats,
    exercises,
    submissions,
)

_c, _ce, _e, _st, _ac = (
    candidates,
    candidate_exercises,
    exercises,
    exercise_version_stats,
    attempt_counters,
)


def _candidate_row(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "email": row.email,
        "subject": row.subject,
        "status": row.status,
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    }


def list_candidates(
    conn: Connection, *, status: str | None, limit: int, offset: int
) -> dict[str, Any]:
    where = [] if status is None else [_c.c.status == status]
    total = conn.execute(sa.select(sa.func.count()).select_from(_c).where(*where)).scalar_one()
    rows = conn.execute(
        sa.select(_c).where(*where).order_by(_c.c.created_at, _c.c.id).limit(limit).offset(offset)
    )
    return {
        "items": [_candidate_row(row) for row in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


def candidate(conn: Connection, candidate_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(_c).where(_c.c.id == candidate_id)).first()
    if row is None:
        return None
    assigned = conn.execute(
        sa.select(_ce, _e.c.title, _e.c.version)
        .select_from(_ce.outerjoin(_e, _e.c.id == _ce.c.exercise_id))
        .where(_ce.c.candidate_id == candidate_id)
        .order_by(_ce.c.position)
    )
    exercises = [
        {
            "exercise_id": item.exercise_id,
            "title": item.title,
            "version": item.version,
            "solved": item.solved_at is not None,
            "solved_version": item.solved_version,
            "solved_at": None if item.solved_at is None else rfc3339(item.solved_at),
        }
        for item in assigned
    ]
    # A candidate becomes a teacher with the solution of their last unsolved exercise.
    solved_at = [item["solved_at"] for item in exercises if item["solved_at"] is not None]
    teacher = row.status == "teacher" and bool(solved_at)
    return {
        **_candidate_row(row),
        "became_teacher_at": max(solved_at) if teacher else None,
        "exercises": exercises,
    }


def exercises_to_solve(
    conn: Connection, candidate_id: str, max_attempts: int
) -> list[dict[str, Any]] | None:
    """The candidate's exercises at their current version, without accepted answers."""
    exists = conn.execute(sa.select(_c.c.id).where(_c.c.id == candidate_id)).first()
    if exists is None:
        return None
    rows = conn.execute(
        sa.select(
            _ce.c.exercise_id,
            _ce.c.solved_at,
            _e.c.title,
            _e.c.statement,
            _e.c.subject,
            _e.c.difficulty,
            _e.c.version,
            sa.func.coalesce(_ac.c.attempts, 0).label("attempts"),
        )
        .select_from(
            _ce.join(_e, _e.c.id == _ce.c.exercise_id).outerjoin(
                _ac,
                sa.and_(
                    _ac.c.candidate_id == _ce.c.candidate_id,
                    _ac.c.exercise_id == _ce.c.exercise_id,
                    _ac.c.exercise_version == _e.c.version,
                ),
            )
        )
        .where(_ce.c.candidate_id == candidate_id)
        .order_by(_ce.c.position)
    )
    return [
        {
            "exercise_id": row.exercise_id,
            "title": row.title,
            "statement": row.statement,
            "subject": row.subject,
            "difficulty": row.difficulty,
            "version": row.version,
            "solved": row.solved_at is not None,
            "attempts_left": max(0, max_attempts - row.attempts),
        }
        for row in rows
    ]


def submissions_of(conn: Connection, candidate_id: str) -> list[dict[str, Any]] | None:
    """Every submission hiring stored for the candidate, oldest first, without the answers."""
    exists = conn.execute(sa.select(_c.c.id).where(_c.c.id == candidate_id)).first()
    if exists is None:
        return None
    s = submissions.c
    rows = conn.execute(
        sa.select(
            s.id, s.exercise_id, s.exercise_version, s.correct, s.attempt_number, s.created_at
        )
        .where(s.candidate_id == candidate_id)
        .order_by(s.created_at, s.id)
    )
    return [
        {
            "submission_id": row.id,
            "exercise_id": row.exercise_id,
            "exercise_version": row.exercise_version,
            "correct": bool(row.correct),
            "attempt": row.attempt_number,
            "submitted_at": rfc3339(row.created_at),
        }
        for row in rows
    ]


def _current_stats_join() -> Any:
    return _e.join(_st, sa.and_(_st.c.exercise_id == _e.c.id, _st.c.version == _e.c.version))


def _exercise_heading() -> tuple[sa.Column[Any], ...]:
    """The replica's columns that head both the exercise list and one exercise's stats."""
    return (_e.c.id, _e.c.title, _e.c.subject, _e.c.difficulty, _e.c.author_id, _e.c.version)


def list_exercises(
    conn: Connection, *, limit: int, offset: int, author_id: str | None = None
) -> dict[str, Any]:
    where = [] if author_id is None else [_e.c.author_id == author_id]
    total = conn.execute(sa.select(sa.func.count()).select_from(_e).where(*where)).scalar_one()
    rows = conn.execute(
        sa.select(
            *_exercise_heading(),
            _e.c.check_mode,
            _e.c.updated_at,
            _e.c.rating_version,
            _st.c.completions,
            _st.c.rating,
            _st.c.needs_complication,
        )
        .select_from(_current_stats_join())
        .where(*where)
        .order_by(_e.c.id)
        .limit(limit)
        .offset(offset)
    )
    items = [
        {
            "exercise_id": row.id,
            "title": row.title,
            "subject": row.subject,
            "difficulty": row.difficulty,
            "author_id": row.author_id,
            "version": row.version,
            "check_mode": row.check_mode,
            "updated_at": row.updated_at,
            "completions": row.completions,
            "rating": row.rating,
            "rating_version": row.rating_version,
            "needs_complication": bool(row.needs_complication),
        }
        for row in rows
    ]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def exercise_stats(conn: Connection, exercise_id: str) -> dict[str, Any] | None:
    exercise = conn.execute(
        sa.select(*_exercise_heading(), _e.c.rating_version).where(_e.c.id == exercise_id)
    ).first()
    if exercise is None:
        return None
    rows = conn.execute(
        sa.select(_st).where(_st.c.exercise_id == exercise_id).order_by(_st.c.version)
    )
    return {
        "exercise_id": exercise.id,
        "title": exercise.title,
        "subject": exercise.subject,
        "difficulty": exercise.difficulty,
        "author_id": exercise.author_id,
        "current_version": exercise.version,
        "rating_version": exercise.rating_version,
        "versions": [
            {
                "version": row.version,
                "completions": row.completions,
                "attempted_candidates": row.attempted_candidates,
                "failed_first_attempts": row.failed_first_attempts,
                "rating": row.rating,
                "needs_complication": bool(row.needs_complication),
            }
            for row in rows
        ],
    }


def completion(conn: Connection, exercise_id: str, candidate_id: str) -> dict[str, Any] | None:
    """The version of the exercise the candidate solved, and whether hiring holds it leaked
    (the submission that counted it may have been the one that leaked it); None if unsolved."""
    row = conn.execute(
        sa.select(_ce.c.solved_version, _st.c.needs_complication)
        .select_from(
            _ce.outerjoin(
                _st,
                sa.and_(
                    _st.c.exercise_id == _ce.c.exercise_id, _st.c.version == _ce.c.solved_version
                ),
            )
        )
        .where(
            _ce.c.candidate_id == candidate_id,
            _ce.c.exercise_id == exercise_id,
            _ce.c.solved_version.is_not(None),
        )
    ).first()
    if row is None:
        return None
    return {
        "exercise_id": exercise_id,
        "candidate_id": candidate_id,
        "exercise_version": row.solved_version,
        "leaked": bool(row.needs_complication),
    }


def issued_totals(conn: Connection) -> dict[str, Any]:
    """Per manager, the bonuses and fines hiring has staged, for reconciliation."""
    s = submissions.c
    rows = conn.execute(
        sa.select(s.money_manager_id, s.money_kind, sa.func.sum(s.money_cents), sa.func.count())
        .where(s.money_kind.is_not(None))
        .group_by(s.money_manager_id, s.money_kind)
    )
    totals: dict[str, dict[str, Any]] = {}
    for manager_id, kind, cents, count in rows:
        entry = totals.setdefault(
            manager_id,
            {
                "manager_id": manager_id,
                "bonus_cents": 0,
                "fine_cents": 0,
                "bonus_count": 0,
                "fine_count": 0,
            },
        )
        entry[f"{kind}_cents"] = int(cents)
        entry[f"{kind}_count"] = int(count)
    return {"items": [totals[key] for key in sorted(totals)]}
