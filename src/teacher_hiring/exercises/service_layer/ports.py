"""What exercises's service layer asks of storage, as a protocol its adapters implement.

The handlers see this shape only (`UnitOfWork[ExercisesRepository]`); the SQL that fills it is
`adapters.repository.Repository`, which `bootstrap` and the routes' dependencies hand in.
Idempotency is the storage's: an `add_*` that returns False met a row already there.
"""

from __future__ import annotations

from typing import Protocol

from teacher_hiring.exercises.domain.model import (
    CandidateSnapshot,
    ComplicationAssignment,
    Exercise,
    ExerciseStatus,
    Manager,
    Payment,
)
from teacher_hiring.exercises.domain.reviews import Completion, PaymentReview


class ExercisesRepository(Protocol):
    """Managers, exercises and their versions, assignments, payments and the candidate replica,
    on the unit of work's transaction. A `lock=True` read keeps the row from other writers
    until the transaction ends."""

    # -- managers

    def add_manager(self, manager: Manager, now: float) -> None: ...

    def update_manager(self, manager: Manager, now: float) -> None: ...

    def get_manager(self, manager_id: str, *, lock: bool = False) -> Manager | None: ...

    def open_assignment_counts(self) -> dict[str, int]:
        """Every manager with the number of open assignments they hold (0 included)."""
        ...

    # -- exercises

    def add_exercise(self, exercise: Exercise, now: float) -> None: ...

    def get_exercise(self, exercise_id: str, *, lock: bool = False) -> Exercise | None: ...

    def save_revision(self, exercise: Exercise, previous_version: int, now: float) -> bool:
        """Store the new version unless another save got there first (False then)."""
        ...

    def set_status(self, exercise_id: str, status: ExerciseStatus) -> None: ...

    def add_version(self, exercise: Exercise, edited_by: str, saved_at: float) -> None: ...

    def current_version(self, exercise_id: str) -> int: ...

    # -- complication assignments

    def add_assignment(
        self,
        assignment: ComplicationAssignment,
        now: float,
        source_event_id: str | None,
        completed_by: tuple[Completion, ...] | None = None,
    ) -> bool:
        """Open the assignment; False if one for that exercise version already exists.
        `completed_by`: the leak report's evidence (None: the report carried none)."""
        ...

    def assignment_evidence(self, assignment_id: str) -> tuple[Completion, ...]:
        """The completions the assignment's leak report named (none for an older report)."""
        ...

    def assignment_for(self, exercise_id: str, version: int) -> ComplicationAssignment | None: ...

    def latest_assignment(self, exercise_id: str) -> ComplicationAssignment | None: ...

    def open_assignments(self, exercise_id: str) -> list[ComplicationAssignment]: ...

    def close_assignment(self, assignment_id: str, with_version: int, now: float) -> bool:
        """Close it if it is still open; False if someone else closed it first."""
        ...

    # -- the origins of managers' requests

    def note_origin(self, manager_id: str, origin: str, now: float) -> None:
        """Record that a request of the manager's came from `origin` (first and last time)."""
        ...

    def origins_of(self, manager_id: str) -> frozenset[str]: ...

    # -- payments held for review

    def add_review(self, review: PaymentReview) -> bool:
        """Hold the payment; False if the assignment's payment is held already."""
        ...

    def get_review(self, review_id: str, *, lock: bool = False) -> PaymentReview | None: ...

    def decide_review(self, review: PaymentReview) -> bool:
        """Write the decision if the review is still pending; False if another came first."""
        ...

    # -- payments

    def add_payment(self, payment: Payment, now: float) -> bool:
        """Record the payment; False if that assignment was already paid."""
        ...

    # -- candidate replica

    def get_candidate(
        self, candidate_id: str, *, lock: bool = False
    ) -> CandidateSnapshot | None: ...

    def add_candidate(self, snapshot: CandidateSnapshot) -> bool:
        """Insert the first state of a candidate; False if another transaction inserted one."""
        ...

    def put_candidate(self, snapshot: CandidateSnapshot) -> None:
        """Overwrite the stored state (read with `lock=True` first)."""
        ...
