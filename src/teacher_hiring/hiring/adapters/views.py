"""Read-only queries behind the GET routes (never on the submission path)."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection

from teacher_hiring.foundation.records import from_mapping
from teacher_hiring.foundation.time import rfc3339
from teacher_hiring.hiring.adapters.read_models import (
    CandidateDetail,
    CandidateExercise,
    CandidateSummary,
    Completion,
    ExerciseStats,
    ExerciseSummary,
    ExerciseToSolve,
    ManagerTotals,
    Page,
    SubmissionRecord,
    VersionStatsOf,
)
from teacher_hiring.hiring.adapters.tables import (
    attempt_counters,
    candidate_exercises,
    candidates,
    exercise_version_stats,
    exercises,
    submissions,
)

C = TypeVar("C", CandidateSummary, CandidateDetail)
_c, _ce, _e, _st, _ac = (
    candidates,
    candidate_exercises,
    exercises,
    exercise_version_stats,
    attempt_counters,
)


def _candidate(record_type: type[C], row: Any, **given: Any) -> C:
    """A candidates row as a CandidateSummary or a CandidateDetail, its times in RFC 3339."""
    times = {"created_at": rfc3339(row.created_at), "updated_at": rfc3339(row.updated_at)}
    return from_mapping(record_type, row._mapping, **times, **given)


def list_candidates(
    conn: Connection, *, status: str | None, limit: int, offset: int
) -> Page[CandidateSummary]:
    where = [] if status is None else [_c.c.status == status]
    total = conn.execute(sa.select(sa.func.count()).select_from(_c).where(*where)).scalar_one()
    rows = conn.execute(
        sa.select(_c).where(*where).order_by(_c.c.created_at, _c.c.id).limit(limit).offset(offset)
    )
    items = [_candidate(CandidateSummary, row) for row in rows]
    return Page(items, total, limit, offset)


def candidate(conn: Connection, candidate_id: str) -> CandidateDetail | None:
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
        from_mapping(
            CandidateExercise,
            item._mapping,
            solved=item.solved_at is not None,
            solved_at=None if item.solved_at is None else rfc3339(item.solved_at),
        )
        for item in assigned
    ]
    # A candidate becomes a teacher with the solution of their last unsolved exercise.
    solved_at = [item.solved_at for item in exercises if item.solved_at is not None]
    teacher = row.status == "teacher" and bool(solved_at)
    became_teacher_at = max(solved_at) if teacher else None
    return _candidate(
        CandidateDetail, row, became_teacher_at=became_teacher_at, exercises=exercises
    )


def exercises_to_solve(
    conn: Connection, candidate_id: str, max_attempts: int
) -> list[ExerciseToSolve] | None:
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
        from_mapping(
            ExerciseToSolve,
            row._mapping,
            solved=row.solved_at is not None,
            attempts_left=max(0, max_attempts - row.attempts),
        )
        for row in rows
    ]


def submissions_of(conn: Connection, candidate_id: str) -> list[SubmissionRecord] | None:
    """Every submission hiring stored for the candidate, oldest first, without the answers."""
    exists = conn.execute(sa.select(_c.c.id).where(_c.c.id == candidate_id)).first()
    if exists is None:
        return None
    s = submissions.c
    rows = conn.execute(
        sa.select(
            s.id.label("submission_id"),
            s.exercise_id,
            s.exercise_version,
            s.correct,
            s.attempt_number.label("attempt"),
            s.created_at,
        )
        .where(s.candidate_id == candidate_id)
        .order_by(s.created_at, s.id)
    )
    return [
        from_mapping(
            SubmissionRecord,
            row._mapping,
            correct=bool(row.correct),
            submitted_at=rfc3339(row.created_at),
        )
        for row in rows
    ]


def _current_stats_join() -> Any:
    return _e.join(_st, sa.and_(_st.c.exercise_id == _e.c.id, _st.c.version == _e.c.version))


def _exercise_heading() -> tuple[sa.ColumnElement[Any], ...]:
    """The replica's columns that head both the exercise list and one exercise's stats."""
    heading = (_e.c.title, _e.c.subject, _e.c.difficulty, _e.c.author_id, _e.c.version)
    return (_e.c.id.label("exercise_id"), *heading)


def list_exercises(
    conn: Connection, *, limit: int, offset: int, author_id: str | None = None
) -> Page[ExerciseSummary]:
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
        from_mapping(ExerciseSummary, row._mapping, needs_complication=bool(row.needs_complication))
        for row in rows
    ]
    return Page(items, total, limit, offset)


def exercise_stats(conn: Connection, exercise_id: str) -> ExerciseStats | None:
    exercise = conn.execute(
        sa.select(*_exercise_heading(), _e.c.rating_version).where(_e.c.id == exercise_id)
    ).first()
    if exercise is None:
        return None
    rows = conn.execute(
        sa.select(_st).where(_st.c.exercise_id == exercise_id).order_by(_st.c.version)
    )
    versions = [
        from_mapping(VersionStatsOf, row._mapping, needs_complication=bool(row.needs_complication))
        for row in rows
    ]
    return from_mapping(
        ExerciseStats, exercise._mapping, current_version=exercise.version, versions=versions
    )


def completion(conn: Connection, exercise_id: str, candidate_id: str) -> Completion | None:
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
    return Completion(exercise_id, candidate_id, row.solved_version, bool(row.needs_complication))


def issued_totals(conn: Connection) -> list[ManagerTotals]:
    """Per manager, the bonuses and fines hiring has staged, for reconciliation."""
    s = submissions.c
    rows = conn.execute(
        sa.select(s.money_manager_id, s.money_kind, sa.func.sum(s.money_cents), sa.func.count())
        .where(s.money_kind.is_not(None))
        .group_by(s.money_manager_id, s.money_kind)
    )
    sums: dict[str, dict[str, int]] = {}
    for manager_id, kind, cents, count in rows:
        of_manager = sums.setdefault(manager_id, {})
        of_manager[f"{kind}_cents"], of_manager[f"{kind}_count"] = int(cents), int(count)
    return [ManagerTotals(manager_id, **sums[manager_id]) for manager_id in sorted(sums)]
