"""All the SQL hiring's commands run; GET routes read through views.py instead.

The statements of the submission path are built once, with bound parameters, so a request
pays neither statement construction nor compilation: it reads its whole context in two
indexed SELECTs and writes a handful of rows.

Concurrency. On SQLite one write transaction runs at a time, so a submission's reads are still
true when it writes. On PostgreSQL (several instances, many threads) each of the two reads is
preceded by a row lock: the candidate's row (attempt counters, idempotency keys, "solved" are
the candidate's; two submissions of one candidate take turns) and then the exercise's replica
row (the completions, rating and rating_version of its versions; submissions to one exercise
take turns there, and replication updates that row too). Always in that order, so they cannot
deadlock. The lock is a statement of its own on purpose: a SELECT ... FOR UPDATE that waited
re-reads only the locked rows, and would return the joined counters as they were before the
wait; the SELECT that follows the lock starts after the previous holder committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, fields
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from teacher_hiring.foundation.sql import DriverStatement, bound_insert, dialect_insert, locks_rows
from teacher_hiring.hiring.adapters.erasure import PersonalData
from teacher_hiring.hiring.adapters.tables import (
    attempt_counters,
    candidate_exercises,
    candidates,
    exercise_version_stats,
    exercises,
    managers,
    registration_keys,
    submissions,
)
from teacher_hiring.hiring.domain import commands
from teacher_hiring.hiring.domain.commands import email_key
from teacher_hiring.hiring.domain.errors import (
    DuplicateSubmission,
    EmailAlreadyRegistered,
    IdempotencyKeyReused,
)
from teacher_hiring.hiring.domain.model import (
    AssignableExercise,
    CandidateSide,
    CheckMode,
    Exercise,
    NewSubmission,
    VersionStats,
)
from teacher_hiring.hiring.service_layer.results import Registration

_c, _ce, _ac, _s, _e = candidates, candidate_exercises, attempt_counters, submissions, exercises
_st = exercise_version_stats
_solved = submissions.alias("solved")
_others = candidate_exercises.alias("others")


def _bound_update(
    table: sa.Table, *also: sa.ColumnElement[bool], keys: Iterable[str], values: Iterable[str]
) -> DriverStatement:
    """UPDATE of `values`, each bound to the parameter of its name, of the row whose `keys`
    equal the parameters k_<key> (apart from the new values'); `also` narrows it further."""
    where = [table.c[key] == sa.bindparam(f"k_{key}") for key in keys]
    new: dict[str, sa.BindParameter[Any]] = {name: sa.bindparam(name) for name in values}
    return DriverStatement(table.update().where(*where, *also).values(new))


_CANDIDATE_SIDE = DriverStatement(
    sa.select(
        _c.c.name,
        _c.c.status,
        _ce.c.exercise_id.is_not(None).label("assigned"),
        _solved.c.response.label("solved_response"),
        sa.select(_s.c.response)
        .where(
            _s.c.candidate_id == _c.c.id,
            _s.c.idempotency_key == sa.bindparam("idempotency_key"),
        )
        .scalar_subquery()
        .label("keyed_response"),
        sa.func.coalesce(_ac.c.attempts, 0).label("attempts"),
        sa.func.coalesce(_ac.c.first_attempt_failed, False).label("first_attempt_failed"),
        sa.select(sa.func.count())
        .select_from(_others)
        .where(_others.c.candidate_id == _c.c.id, _others.c.solved_at.is_(None))
        .scalar_subquery()
        .label("unsolved"),
    )
    .select_from(
        _c.outerjoin(
            _ce,
            sa.and_(
                _ce.c.candidate_id == _c.c.id, _ce.c.exercise_id == sa.bindparam("exercise_id")
            ),
        )
        .outerjoin(_solved, _solved.c.id == _ce.c.solved_submission_id)
        .outerjoin(
            _ac,
            sa.and_(
                _ac.c.candidate_id == _c.c.id,
                _ac.c.exercise_id == sa.bindparam("exercise_id"),
                _ac.c.exercise_version == sa.bindparam("exercise_version"),
            ),
        )
    )
    .where(_c.c.id == sa.bindparam("candidate_id"), _c.c.erased_at.is_(None))
)
_LOCK_CANDIDATE = DriverStatement(
    sa.select(_c.c.id).where(_c.c.id == sa.bindparam("candidate_id")).with_for_update()
)

_EXERCISE_SIDE = DriverStatement(
    sa.select(
        _e.c.id,
        _e.c.title,
        _e.c.author_id,
        _e.c.version,
        _e.c.accepted_answers,
        _e.c.check_mode,
        _e.c.rating_version,
        _st.c.completions,
        _st.c.attempted_candidates,
        _st.c.failed_first_attempts,
        _st.c.rating,
        _st.c.needs_complication,
    )
    .select_from(_e.join(_st, sa.and_(_st.c.exercise_id == _e.c.id, _st.c.version == _e.c.version)))
    .where(_e.c.id == sa.bindparam("exercise_id"))
)
_LOCK_EXERCISE = DriverStatement(
    sa.select(_e.c.id).where(_e.c.id == sa.bindparam("exercise_id")).with_for_update()
)

_ASSIGNABLE_ANY = (
    sa.select(_e.c.id, _e.c.title, _e.c.version, _e.c.subject, _e.c.difficulty)
    .select_from(_e.join(_st, sa.and_(_st.c.exercise_id == _e.c.id, _st.c.version == _e.c.version)))
    .where(_st.c.needs_complication.is_(False))
)
_ASSIGNABLE = _ASSIGNABLE_ANY.order_by(_st.c.completions, _e.c.id).limit(sa.bindparam("limit"))
_ASSIGNABLE_OF_SUBJECT = (
    _ASSIGNABLE_ANY.where(_e.c.subject == sa.bindparam("subject"))
    .order_by(_st.c.completions, _e.c.id)
    .limit(sa.bindparam("limit"))
)

_ASSIGNED_IDS = (
    sa.select(_ce.c.exercise_id)
    .where(_ce.c.candidate_id == sa.bindparam("candidate_id"))
    .order_by(_ce.c.position)
)
_SET_STATUS = _bound_update(candidates, keys=("id",), values=("status", "updated_at"))
_INSERT_SUBMISSION = bound_insert(submissions, [field.name for field in fields(NewSubmission)])
_INSERT_COUNTER = bound_insert(
    attempt_counters,
    ("candidate_id", "exercise_id", "exercise_version", "attempts", "first_attempt_failed"),
)
_UPDATE_COUNTER = _bound_update(
    attempt_counters, keys=("candidate_id", "exercise_id", "exercise_version"), values=("attempts",)
)
_UPDATE_STATS = _bound_update(
    exercise_version_stats,
    keys=("exercise_id", "version"),
    values=[field.name for field in fields(VersionStats)],
)
_UPDATE_RATING_VERSION = _bound_update(exercises, keys=("id",), values=("rating_version",))
_MARK_SOLVED = _bound_update(
    candidate_exercises,
    _ce.c.solved_at.is_(None),
    keys=("candidate_id", "exercise_id"),
    values=("solved_at", "solved_version", "solved_submission_id"),
)


def _columns(row_type: type) -> Callable[[Any], dict[str, Any]]:
    """A flat dataclass's fields as bound values: dataclasses.asdict deep-copies every value,
    which on the submission path cost more than the statement it fed."""
    names = tuple(field.name for field in fields(row_type))
    return lambda row: {name: getattr(row, name) for name in names}


_submission_row = _columns(NewSubmission)
_stats_row = _columns(VersionStats)


class HiringRepository(PersonalData):
    """Hiring's storage on one connection (the unit of work's transaction); the keys and the
    erasure of personal data are PersonalData's."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._lock = locks_rows(conn)

    # -- candidates ----------------------------------------------------------------------------

    def assignable_exercises(
        self, limit: int, subject: str | None = None
    ) -> list[AssignableExercise]:
        """The least-completed assignable exercises, of `subject` only unless it is None."""
        if subject is None:
            rows = self.conn.execute(_ASSIGNABLE, {"limit": limit})
        else:
            rows = self.conn.execute(_ASSIGNABLE_OF_SUBJECT, {"limit": limit, "subject": subject})
        return [
            AssignableExercise(row.id, row.title, row.version, row.subject, row.difficulty)
            for row in rows
        ]

    def email_registered(self, email: str) -> bool:
        key = email_key(email)
        query = sa.select(candidates.c.id).where(candidates.c.email_key == key)
        return self.conn.execute(query).first() is not None

    def registered_with_key(self, cmd: commands.RegisterCandidate) -> Registration | None:
        """The registration made with cmd's Idempotency-Key, as it was answered; None when the
        key is new (or there is none); IdempotencyKeyReused when it came with another body."""
        if cmd.idempotency_key is None:
            return None
        rk = registration_keys
        row = self.conn.execute(
            sa.select(rk.c.request_hash, rk.c.exercises, _c.c.id, _c.c.name, _c.c.email)
            .add_columns(_c.c.subject, _c.c.status)
            .join(_c, _c.c.id == rk.c.candidate_id)
            .where(rk.c.idempotency_key == cmd.idempotency_key)
        ).first()
        if row is None:
            return None
        if row.request_hash != cmd.fingerprint():
            raise IdempotencyKeyReused()
        exercises = tuple(AssignableExercise(**e) for e in orjson.loads(row.exercises))
        return Registration(row.id, row.name, row.email, row.subject, row.status, exercises)

    def add_candidate(
        self, registered: Registration, at: float, cmd: commands.RegisterCandidate | None = None
    ) -> Registration | None:
        """Add it, with cmd's Idempotency-Key if it has one, and return None; or return the
        registration a twin with that key committed meanwhile, adding nothing."""
        row = {
            "id": registered.id,
            "name": registered.name,
            "email": registered.email,
            "email_key": email_key(registered.email),
            "status": registered.status,
            "subject": registered.subject,
            "created_at": at,
            "updated_at": at,
            "registered_by": None if cmd is None else cmd.registered_by,
            "origin": None if cmd is None else cmd.origin,
        }
        try:  # a savepoint, so the transaction can still say why the insert failed
            with self.conn.begin_nested():
                self.conn.execute(candidates.insert(), row)
                if cmd is not None and cmd.idempotency_key is not None:
                    self.conn.execute(
                        registration_keys.insert(),
                        {
                            "idempotency_key": cmd.idempotency_key,
                            "request_hash": cmd.fingerprint(),
                            "candidate_id": registered.id,
                            "exercises": orjson.dumps(
                                [asdict(e) for e in registered.exercises]
                            ).decode(),
                            "created_at": at,
                        },
                    )
        except IntegrityError as exc:  # the same email or key registered at the same moment
            earlier = None if cmd is None else self.registered_with_key(cmd)
            if earlier is not None:
                return earlier
            if self.email_registered(registered.email):
                raise EmailAlreadyRegistered() from exc
            raise
        self.conn.execute(
            candidate_exercises.insert(),
            [
                {"candidate_id": registered.id, "exercise_id": e.exercise_id, "position": position}
                for position, e in enumerate(registered.exercises)
            ],
        )
        return None

    def assigned_exercise_ids(self, candidate_id: str) -> list[str]:
        return list(self.conn.execute(_ASSIGNED_IDS, {"candidate_id": candidate_id}).scalars())

    def set_status(self, candidate_id: str, status: str, at: float) -> None:
        _SET_STATUS(self.conn, {"k_id": candidate_id, "status": status, "updated_at": at})

    # -- the submission path -------------------------------------------------------------------

    def candidate_side(
        self, candidate_id: str, exercise_id: str, version: int, idempotency_key: str | None
    ) -> CandidateSide | None:
        """What the submission needs of the candidate, who stays locked until the commit."""
        if self._lock:
            _LOCK_CANDIDATE(self.conn, {"candidate_id": candidate_id})
        row = _CANDIDATE_SIDE(
            self.conn,
            {
                "candidate_id": candidate_id,
                "exercise_id": exercise_id,
                "exercise_version": version,
                "idempotency_key": idempotency_key,
            },
        ).first()
        if row is None:
            return None
        return CandidateSide(
            name=row.name,
            status=row.status,
            assigned=bool(row.assigned),
            solved_response=row.solved_response,
            keyed_response=row.keyed_response,
            attempts=int(row.attempts),
            first_attempt_failed=bool(row.first_attempt_failed),
            unsolved=int(row.unsolved),
        )

    def exercise_side(self, exercise_id: str) -> tuple[Exercise, VersionStats] | None:
        """The current version with its stats; the exercise stays locked until the commit."""
        if self._lock:
            _LOCK_EXERCISE(self.conn, {"exercise_id": exercise_id})
        row = _EXERCISE_SIDE(self.conn, {"exercise_id": exercise_id}).first()
        if row is None:
            return None
        exercise = Exercise(
            exercise_id=row.id,
            title=row.title,
            author_id=row.author_id,
            version=row.version,
            accepted_answers=tuple(orjson.loads(row.accepted_answers)),
            check_mode=cast(CheckMode, row.check_mode),
            rating_version=row.rating_version,
        )
        stats = VersionStats(
            completions=row.completions,
            attempted_candidates=row.attempted_candidates,
            failed_first_attempts=row.failed_first_attempts,
            rating=row.rating,
            needs_complication=bool(row.needs_complication),
        )
        return exercise, stats

    def add_submission(self, submission: NewSubmission) -> None:
        # No savepoint: a duplicate aborts the whole unit of work, which the caller retries.
        try:
            _INSERT_SUBMISSION(self.conn, _submission_row(submission))
        except IntegrityError as exc:
            raise DuplicateSubmission(submission.idempotency_key) from exc

    def count_attempt(
        self,
        candidate_id: str,
        exercise_id: str,
        version: int,
        *,
        attempts: int,
        first_attempt_failed: bool,
    ) -> None:
        if attempts == 1:
            _INSERT_COUNTER(
                self.conn,
                {
                    "candidate_id": candidate_id,
                    "exercise_id": exercise_id,
                    "exercise_version": version,
                    "attempts": attempts,
                    "first_attempt_failed": first_attempt_failed,
                },
            )
            return
        _UPDATE_COUNTER(
            self.conn,
            {
                "k_candidate_id": candidate_id,
                "k_exercise_id": exercise_id,
                "k_exercise_version": version,
                "attempts": attempts,
            },
        )

    def save_stats(self, exercise_id: str, version: int, stats: VersionStats) -> None:
        _UPDATE_STATS(
            self.conn, {"k_exercise_id": exercise_id, "k_version": version, **_stats_row(stats)}
        )

    def set_rating_version(self, exercise_id: str, rating_version: int) -> None:
        _UPDATE_RATING_VERSION(self.conn, {"k_id": exercise_id, "rating_version": rating_version})

    def mark_solved(
        self, candidate_id: str, exercise_id: str, version: int, submission_id: str, at: float
    ) -> None:
        result = _MARK_SOLVED(
            self.conn,
            {
                "k_candidate_id": candidate_id,
                "k_exercise_id": exercise_id,
                "solved_at": at,
                "solved_version": version,
                "solved_submission_id": submission_id,
            },
        )
        if result.rowcount != 1:
            raise DuplicateSubmission(f"{candidate_id} solved {exercise_id} concurrently")

    def completed_by(self, exercise_id: str, version: int, first: int) -> list[dict[str, Any]]:
        """The first `first` candidates who completed this version, in the order they did, with
        who registered each and from where (a leak report's evidence, v2)."""
        query = (
            sa.select(_ce.c.candidate_id, _c.c.registered_by, _c.c.origin)
            .select_from(_ce.join(_c, _c.c.id == _ce.c.candidate_id))
            .where(_ce.c.exercise_id == exercise_id, _ce.c.solved_version == version)
            .order_by(_ce.c.solved_at, _ce.c.candidate_id)
            .limit(first)
        )
        return [
            {
                "candidate_id": row.candidate_id,
                "registered_by": row.registered_by,
                "origin": row.origin,
            }
            for row in self.conn.execute(query)
        ]

    # -- replicas ------------------------------------------------------------------------------

    def replicated_version(self, exercise_id: str) -> int | None:
        query = sa.select(_e.c.version).where(_e.c.id == exercise_id)
        version = self.conn.execute(query).scalar_one_or_none()
        return None if version is None else int(version)

    def replicate_exercise(
        self, cmd: commands.ReplicateExercise, *, held: int | None, at: float
    ) -> bool:
        """Store the version as current, with fresh stats; the old version's stats stay.

        False if the replica holds this version or a newer one by now: `held` was read before,
        so the write repeats the rule (INSERT only if absent, UPDATE only if older), and a
        concurrent replication of another version can never take the replica backwards.
        """
        values: dict[str, Any] = {
            "title": cmd.title,
            "statement": cmd.statement,
            "accepted_answers": orjson.dumps(list(cmd.accepted_answers)).decode(),
            "check_mode": cmd.check_mode,
            "subject": cmd.subject,
            "difficulty": cmd.difficulty,
            "author_id": cmd.author_id,
            "version": cmd.version,
            "status": cmd.status,
            "updated_at": cmd.updated_at,
            "replicated_at": at,
        }
        stored = False
        if held is None:
            insert = dialect_insert(self.conn.dialect.name, exercises)
            insert = insert.values(id=cmd.exercise_id, **values).on_conflict_do_nothing()
            stored = self.conn.execute(insert).rowcount == 1
        if not stored:
            older = exercises.update().where(_e.c.id == cmd.exercise_id, _e.c.version < cmd.version)
            if self.conn.execute(older.values(values)).rowcount != 1:
                return False
        # The exercise's row is now locked by this transaction: no other one gets here for it.
        stats_exist = sa.select(_st.c.version).where(
            _st.c.exercise_id == cmd.exercise_id, _st.c.version == cmd.version
        )
        if self.conn.execute(stats_exist).first() is None:
            self.conn.execute(
                exercise_version_stats.insert().values(
                    exercise_id=cmd.exercise_id,
                    version=cmd.version,
                    created_at=at,
                    **asdict(VersionStats()),
                )
            )
        return True

    def replicate_manager(self, cmd: commands.ReplicateManager, at: float) -> None:
        """Insert or overwrite in one statement, so two writers of a new manager cannot clash."""
        values = {
            "first_name": cmd.first_name,
            "last_name": cmd.last_name,
            "team": cmd.team,
            "email": cmd.email,
            "replicated_at": at,
        }
        insert = dialect_insert(self.conn.dialect.name, managers)
        self.conn.execute(
            insert.values(id=cmd.manager_id, **values).on_conflict_do_update(
                index_elements=[managers.c.id], set_=values
            )
        )
