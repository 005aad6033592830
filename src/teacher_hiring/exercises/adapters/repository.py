"""All SQL the handlers need, on one connection (the unit of work's transaction).

Idempotency lives here, in the database: an assignment per (exercise, version) and a payment
per assignment are inserted with ON CONFLICT DO NOTHING, and a duplicate is a row count of 0.

Reads that a write depends on can lock their row (`lock=True`): SELECT ... FOR UPDATE on
PostgreSQL, where writers run side by side; SQLite ignores it, its writers take turns anyway.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from teacher_hiring.exercises.adapters.tables import (
    candidates,
    complication_assignments,
    exercise_versions,
    exercises,
    manager_origins,
    managers,
    payment_reviews,
    payments,
)
from teacher_hiring.exercises.domain.model import (
    CandidateSnapshot,
    ComplicationAssignment,
    Exercise,
    ExerciseStatus,
    Manager,
    Payment,
)
from teacher_hiring.exercises.domain.reviews import Completion, PaymentReview
from teacher_hiring.foundation.records import columns_of, record_of
from teacher_hiring.foundation.sql import dialect_insert


class Repository:
    """The SQL of `service_layer.ports.ExercisesRepository`, on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _first(self, query: sa.Select[Any], *, lock: bool) -> sa.Row[Any] | None:
        """The first row; with `lock`, no other transaction changes it until this one ends."""
        return self.conn.execute(query.with_for_update() if lock else query).first()

    # -- managers ------------------------------------------------------------------------------

    def add_manager(self, manager: Manager, now: float) -> None:
        self.conn.execute(
            managers.insert().values(**columns_of(manager), created_at=now, updated_at=now)
        )

    def update_manager(self, manager: Manager, now: float) -> None:
        self.conn.execute(
            managers.update()
            .where(managers.c.id == manager.id)
            .values(**columns_of(manager, without=["id"]), updated_at=now)
        )

    def get_manager(self, manager_id: str, *, lock: bool = False) -> Manager | None:
        """The manager; with `lock`, no other transaction changes them until this one ends."""
        row = self._first(sa.select(managers).where(managers.c.id == manager_id), lock=lock)
        return None if row is None else record_of(Manager, row)

    def open_assignment_counts(self) -> dict[str, int]:
        """Every manager with the number of open assignments they hold (0 included)."""
        open_ones = open_assignments_by_manager()
        query = sa.select(managers.c.id, sa.func.coalesce(open_ones.c.n, 0)).select_from(
            managers.outerjoin(open_ones, open_ones.c.assignee_id == managers.c.id)
        )
        return {manager_id: int(count) for manager_id, count in self.conn.execute(query)}

    # -- exercises -----------------------------------------------------------------------------

    def add_exercise(self, exercise: Exercise, now: float) -> None:
        self.conn.execute(
            exercises.insert().values(**columns_of(exercise), created_at=now, updated_at=now)
        )

    def get_exercise(self, exercise_id: str, *, lock: bool = False) -> Exercise | None:
        """The exercise; with `lock`, no other transaction changes it until this one ends."""
        row = self._first(sa.select(exercises).where(exercises.c.id == exercise_id), lock=lock)
        return None if row is None else record_of(Exercise, row)

    def save_revision(self, exercise: Exercise, previous_version: int, now: float) -> bool:
        """Store the new version unless another save got there first (False then)."""
        result = self.conn.execute(
            exercises.update()
            .where(exercises.c.id == exercise.id, exercises.c.version == previous_version)
            .values(**columns_of(exercise, without=["id", "author_id"]), updated_at=now)
        )
        return result.rowcount == 1

    def set_status(self, exercise_id: str, status: ExerciseStatus) -> None:
        self.conn.execute(
            exercises.update().where(exercises.c.id == exercise_id).values(status=status)
        )

    def add_version(self, exercise: Exercise, edited_by: str, saved_at: float) -> None:
        self.conn.execute(
            exercise_versions.insert().values(
                **columns_of(exercise, without=["id", "author_id", "status"]),
                exercise_id=exercise.id,
                edited_by=edited_by,
                saved_at=saved_at,
            )
        )

    def current_version(self, exercise_id: str) -> int:
        query = sa.select(exercises.c.version).where(exercises.c.id == exercise_id)
        return int(self.conn.execute(query).scalar_one())

    # -- complication assignments --------------------------------------------------------------

    def add_assignment(
        self,
        assignment: ComplicationAssignment,
        now: float,
        source_event_id: str | None,
        completed_by: tuple[Completion, ...] | None = None,
    ) -> bool:
        """Open the assignment; False if one for that exercise version already exists.
        `completed_by`: the leak report's evidence (None: the report carried none)."""
        evidence = None if completed_by is None else [columns_of(c) for c in completed_by]
        insert = _insert(self.conn, complication_assignments).values(
            **columns_of(assignment),
            opened_at=now,
            source_event_id=source_event_id,
            completed_by=evidence,
        )
        result = self.conn.execute(
            insert.on_conflict_do_nothing(index_elements=["exercise_id", "exercise_version"])
        )
        return result.rowcount == 1

    def assignment_for(self, exercise_id: str, version: int) -> ComplicationAssignment | None:
        return self._one_assignment(
            complication_assignments.c.exercise_id == exercise_id,
            complication_assignments.c.exercise_version == version,
        )

    def latest_assignment(self, exercise_id: str) -> ComplicationAssignment | None:
        return self._one_assignment(
            complication_assignments.c.exercise_id == exercise_id,
            order_by=complication_assignments.c.exercise_version.desc(),
        )

    def open_assignments(self, exercise_id: str) -> list[ComplicationAssignment]:
        query = (
            sa.select(complication_assignments)
            .where(
                complication_assignments.c.exercise_id == exercise_id,
                complication_assignments.c.status == "open",
            )
            .order_by(complication_assignments.c.exercise_version)
        )
        return [record_of(ComplicationAssignment, row) for row in self.conn.execute(query)]

    def close_assignment(self, assignment_id: str, with_version: int, now: float) -> bool:
        """Close it if it is still open; False if someone else closed it first."""
        result = self.conn.execute(
            complication_assignments.update()
            .where(
                complication_assignments.c.id == assignment_id,
                complication_assignments.c.status == "open",
            )
            .values(status="closed", closed_at=now, closed_with_version=with_version)
        )
        return result.rowcount == 1

    def _one_assignment(
        self, *where: sa.ColumnElement[bool], order_by: Any = None
    ) -> ComplicationAssignment | None:
        query = sa.select(complication_assignments).where(*where).limit(1)
        if order_by is not None:
            query = query.order_by(order_by)
        row = self._first(query, lock=False)
        return None if row is None else record_of(ComplicationAssignment, row)

    def assignment_evidence(self, assignment_id: str) -> tuple[Completion, ...]:
        """The completions the assignment's leak report named (none for an older report)."""
        query = sa.select(complication_assignments.c.completed_by).where(
            complication_assignments.c.id == assignment_id
        )
        found = self.conn.execute(query).scalar_one_or_none()
        return tuple(Completion.of(item) for item in found or ())

    # -- the origins of managers' requests -------------------------------------------------------

    def note_origin(self, manager_id: str, origin: str, now: float) -> None:
        """Record that a request of the manager's came from `origin` (first and last time)."""
        insert = _insert(self.conn, manager_origins).values(
            manager_id=manager_id, origin=origin, first_seen=now, last_seen=now
        )
        self.conn.execute(
            insert.on_conflict_do_update(
                index_elements=["manager_id", "origin"], set_={"last_seen": now}
            )
        )

    def origins_of(self, manager_id: str) -> frozenset[str]:
        query = sa.select(manager_origins.c.origin).where(
            manager_origins.c.manager_id == manager_id
        )
        return frozenset(self.conn.execute(query).scalars())

    # -- payments ------------------------------------------------------------------------------

    def add_payment(self, payment: Payment, now: float) -> bool:
        """Record the payment; False if that assignment was already paid."""
        insert = _insert(self.conn, payments).values(**columns_of(payment), created_at=now)
        result = self.conn.execute(insert.on_conflict_do_nothing(index_elements=["assignment_id"]))
        return result.rowcount == 1

    # -- payments held for review ----------------------------------------------------------------

    def add_review(self, review: PaymentReview) -> bool:
        """Hold the payment; False if the assignment's payment is held already."""
        insert = _insert(self.conn, payment_reviews).values(**columns_of(review))
        result = self.conn.execute(insert.on_conflict_do_nothing(index_elements=["assignment_id"]))
        return result.rowcount == 1

    def get_review(self, review_id: str, *, lock: bool = False) -> PaymentReview | None:
        query = sa.select(payment_reviews).where(payment_reviews.c.id == review_id)
        row = self._first(query, lock=lock)
        return None if row is None else record_of(PaymentReview, row)

    def decide_review(self, review: PaymentReview) -> bool:
        """Write the decision if the review is still pending; False if another came first."""
        result = self.conn.execute(
            payment_reviews.update()
            .where(payment_reviews.c.id == review.id, payment_reviews.c.status == "pending")
            .values(
                status=review.status,
                decided_at=review.decided_at,
                decided_by=review.decided_by,
                reason=review.reason,
                payment_id=review.payment_id,
            )
        )
        return result.rowcount == 1

    # -- candidate replica ---------------------------------------------------------------------

    def get_candidate(self, candidate_id: str, *, lock: bool = False) -> CandidateSnapshot | None:
        query = sa.select(candidates).where(candidates.c.candidate_id == candidate_id)
        row = self._first(query, lock=lock)
        return None if row is None else record_of(CandidateSnapshot, row)

    def add_candidate(self, snapshot: CandidateSnapshot) -> bool:
        """Insert the first state of a candidate; False if another transaction inserted one."""
        insert = _insert(self.conn, candidates).values(**columns_of(snapshot))
        result = self.conn.execute(insert.on_conflict_do_nothing(index_elements=["candidate_id"]))
        return result.rowcount == 1

    def put_candidate(self, snapshot: CandidateSnapshot) -> None:
        """Overwrite the stored state (read with `lock=True` first)."""
        self.conn.execute(
            candidates.update()
            .where(candidates.c.candidate_id == snapshot.candidate_id)
            .values(**columns_of(snapshot, without=["candidate_id"]))
        )


def open_assignments_by_manager() -> sa.Subquery:
    """(assignee_id, n): open assignments per manager holding any; shared with the views."""
    return (
        sa.select(complication_assignments.c.assignee_id, sa.func.count().label("n"))
        .where(complication_assignments.c.status == "open")
        .group_by(complication_assignments.c.assignee_id)
        .subquery()
    )


def _insert(conn: Connection, table: sa.Table) -> Any:
    return dialect_insert(conn.dialect.name, table)
