"""The service's use cases: plain functions (command, unit of work[, rules]) -> result.

The only place where the domain rules meet storage. Each runs inside the caller's `with uow:`
block and the caller commits, so whatever it writes and stages commits together or not at all.
A handler that produces exercise or manager events is given the versions to produce
(`EventVersions`, read once per save). Storage is what `ports.ExercisesRepository` offers; what
a handler gives back is a domain record or one of `results`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import structlog

from teacher_hiring.exercises.domain import commands
from teacher_hiring.exercises.domain.errors import (
    UnknownExercise,
    UnknownManager,
    VersionConflict,
)
from teacher_hiring.exercises.domain.model import (
    CandidateSnapshot,
    ComplicationAssignment,
    ComplicationRules,
    Exercise,
    Manager,
    Payment,
    choose_assignee,
    ensure_may_edit,
    erased_candidate,
    merge_candidate_created,
    merge_candidate_updated,
    status_after_save,
    version_to_complicate,
)
from teacher_hiring.exercises.domain.reviews import PaymentReview, payment_evidence
from teacher_hiring.exercises.service_layer import events, reviews
from teacher_hiring.exercises.service_layer.events import EventVersions
from teacher_hiring.exercises.service_layer.ports import ExercisesRepository
from teacher_hiring.exercises.service_layer.results import (
    ComplicationOutcome,
    ExerciseCreation,
    ExerciseSaved,
)
from teacher_hiring.foundation.ids import new_id
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)

COMPLETIONS_CONSUMER = "exercises.exercise-completions"
"""The inbox name of leak reports, shared by the event consumer and the synchronous endpoint."""
LEAK_EVENT = "ExerciseCompletedMoreThenTenTimes"


# -- managers ------------------------------------------------------------------------------------


def create_manager(
    cmd: commands.CreateManager, uow: UnitOfWork[ExercisesRepository], versions: EventVersions
) -> Manager:
    manager = Manager(id=new_id(), **asdict(cmd))
    uow.repo.add_manager(manager, uow.clock())
    _stage_manager(uow, events.MANAGER_CREATED, manager, versions.manager)
    return manager


def update_manager(
    cmd: commands.UpdateManager, uow: UnitOfWork[ExercisesRepository], versions: EventVersions
) -> Manager:
    """Change a manager; the same values again change nothing and publish nothing.

    The manager stays locked until the commit: two changes at once (two instances) apply one
    after the other, the second over the first, rather than both over the same old state.
    """
    current = _manager(uow, "manager_id", cmd.manager_id, lock=True)
    changed = current.changed(
        first_name=cmd.first_name, last_name=cmd.last_name, team=cmd.team, email=cmd.email
    )
    if changed != current:
        uow.repo.update_manager(changed, uow.clock())
        _stage_manager(uow, events.MANAGER_UPDATED, changed, versions.manager)
    return changed


def _stage_manager(
    uow: UnitOfWork[ExercisesRepository], event_name: str, manager: Manager, version: int
) -> None:
    uow.stage(event_name, events.manager_payload(manager, version), version=version)


# -- exercises -----------------------------------------------------------------------------------


def create_exercise(
    cmd: commands.CreateExercise, uow: UnitOfWork[ExercisesRepository], versions: EventVersions
) -> ExerciseCreation:
    _manager(uow, "author_id", cmd.author_id)
    exercise = Exercise(id=new_id(), **asdict(cmd))
    now = uow.clock()
    uow.repo.add_exercise(exercise, now)
    uow.repo.add_version(exercise, edited_by=cmd.author_id, saved_at=now)
    version = versions.exercise
    payload = events.exercise_payload(exercise, now, version)
    created = uow.stage(events.EXERCISE_CREATED, payload, version=version)
    return ExerciseCreation(exercise=exercise, created_event_id=created.event_id)


def edit_exercise(
    cmd: commands.EditExercise,
    uow: UnitOfWork[ExercisesRepository],
    rules: ComplicationRules,
    versions: EventVersions,
) -> ExerciseSaved:
    """Save a new version. The assignee's save closes their open assignments and pays each
    once, in this same transaction; anyone else's save leaves them open.

    The exercise stays locked until the commit, so a leak report opening an assignment
    meanwhile cannot slip between reading the open assignments and writing the status.
    """
    current = _exercise(uow, cmd.exercise_id, lock=True)
    editor = _manager(uow, "editor_id", cmd.editor_id)
    still_open = uow.repo.open_assignments(current.id)
    if not cmd.by_operator:
        ensure_may_edit(current, editor.id, still_open)
    revised = current.revised(**cmd.changes(), expected_version=cmd.expected_version)
    closing = [a for a in still_open if a.closed_by_save_of(cmd.editor_id)]
    revised = revised.with_status(status_after_save(len(still_open) - len(closing)))

    now = uow.clock()
    if not uow.repo.save_revision(revised, current.version, now):
        latest = uow.repo.current_version(current.id)
        raise VersionConflict(current.id, cmd.expected_version or current.version, latest)
    uow.repo.add_version(revised, edited_by=cmd.editor_id, saved_at=now)
    version = versions.exercise
    payload = events.exercise_payload(revised, now, version, edited_by=cmd.editor_id)
    updated = uow.stage(events.EXERCISE_UPDATED, payload, version=version)
    settled = [_pay(uow, a, revised, rules, now) for a in closing]
    return ExerciseSaved(
        exercise=revised,
        updated_event_id=updated.event_id,
        closed_assignment_ids=tuple(a.id for a in closing),
        payments=tuple(p for p in settled if isinstance(p, Payment)),
        held=tuple(p for p in settled if isinstance(p, PaymentReview)),
    )


def _pay(
    uow: UnitOfWork[ExercisesRepository],
    assignment: ComplicationAssignment,
    new_version: Exercise,
    rules: ComplicationRules,
    now: float,
) -> Payment | PaymentReview | None:
    """Close the assignment and pay for it, unless it was already closed or paid; or, when
    most of its leaked completions were the assignee's own, hold the payment for review."""
    if not uow.repo.close_assignment(assignment.id, new_version.version, now):
        return None
    payment = Payment(
        id=new_id(),
        assignment_id=assignment.id,
        manager_id=assignment.assignee_id,
        amount_cents=rules.payment_cents,
        exercise_id=new_version.id,
        exercise_version=new_version.version,
    )
    evidence = payment_evidence(
        uow.repo.assignment_evidence(assignment.id),
        assignment.assignee_id,
        uow.repo.origins_of(assignment.assignee_id),
    )
    if evidence.held:
        return reviews.hold(uow, payment, evidence, now)
    return reviews.commit_payment(uow, payment, now)


def note_origin(manager_id: str, origin: str | None, uow: UnitOfWork[ExercisesRepository]) -> None:
    """Remember where a manager's own request came from (nothing for the machine's own)."""
    if origin is not None:
        uow.repo.note_origin(manager_id, origin, uow.clock())


# -- complication assignments --------------------------------------------------------------------


def open_complication_assignment(
    cmd: commands.OpenComplicationAssignment,
    uow: UnitOfWork[ExercisesRepository],
    rules: ComplicationRules,
) -> ComplicationOutcome:
    """Open one assignment for the leaked version while it is the current one; a repeated
    report opens nothing new, a report of a replaced version nothing at all.

    Opening publishes no event (SPEC has none for it): the assignee sees it in the API. The
    exercise stays locked until the commit, so a concurrent save of a new version is either
    seen (the report is then stale) or waits, and sees the assignment.
    """
    exercise = _exercise(uow, cmd.exercise_id, lock=True)
    version = version_to_complicate(exercise, cmd.exercise_version)
    if version is None:
        log.info(
            "complication.stale_report",
            exercise_id=exercise.id,
            leaked_version=cmd.exercise_version,
            current_version=exercise.version,
            event_id=cmd.event_id,
        )
        return ComplicationOutcome(None, "stale")
    existing = uow.repo.assignment_for(exercise.id, version)
    if existing is not None:
        return ComplicationOutcome(existing.id, "duplicate")
    assignment = ComplicationAssignment(
        id=new_id(),
        exercise_id=exercise.id,
        exercise_version=version,
        assignee_id=choose_assignee(
            rules.assignee_policy, exercise.author_id, uow.repo.open_assignment_counts()
        ),
    )
    if not uow.repo.add_assignment(assignment, uow.clock(), cmd.event_id, cmd.completed_by):
        raced = uow.repo.assignment_for(exercise.id, version)
        return ComplicationOutcome(raced.id if raced else None, "duplicate")
    uow.repo.set_status(exercise.id, "needs_complication")
    log.info(
        "complication.opened",
        assignment_id=assignment.id,
        exercise_id=exercise.id,
        exercise_version=version,
        assignee_id=assignment.assignee_id,
    )
    return ComplicationOutcome(assignment.id, "opened")


def request_complication(
    cmd: commands.OpenComplicationAssignment,
    uow: UnitOfWork[ExercisesRepository],
    rules: ComplicationRules,
) -> ComplicationOutcome:
    """The synchronous form of the leak report (COMM-030 before the migration).

    With an event id it claims the same inbox row the event consumer would, so the call and
    the event of the same report apply once between them.
    """
    if cmd.event_id is not None and not uow.claim(COMPLETIONS_CONSUMER, _leak_marker(cmd.event_id)):
        latest = uow.repo.latest_assignment(cmd.exercise_id)
        return ComplicationOutcome(latest.id if latest else None, "duplicate")
    return open_complication_assignment(cmd, uow, rules)


def _leak_marker(event_id: str) -> Envelope:
    """The leak report as the inbox records it: only its id and name are kept."""
    return Envelope(event_id, 0, LEAK_EVENT, "", "", "", {})


# -- candidate replica ---------------------------------------------------------------------------


def record_candidate_created(
    snapshot: CandidateSnapshot, uow: UnitOfWork[ExercisesRepository]
) -> bool:
    """Replicate a CandidateCreated; True if the replica changed."""
    return _replicate_candidate(snapshot, uow, merge_candidate_created)


def record_candidate_updated(
    snapshot: CandidateSnapshot, uow: UnitOfWork[ExercisesRepository]
) -> bool:
    """Replicate a CandidateUpdated unless the replica already holds a newer state."""
    return _replicate_candidate(snapshot, uow, merge_candidate_updated)


def record_candidate_erased(
    candidate_id: str, erased_at: float, uow: UnitOfWork[ExercisesRepository]
) -> bool:
    """Remove the candidate's name from the replica; True if the replica changed."""
    stored = uow.repo.get_candidate(candidate_id, lock=True)
    erased = erased_candidate(stored, candidate_id, erased_at)
    if erased is None:
        return False
    if stored is not None:
        uow.repo.put_candidate(erased)
        return True
    return uow.repo.add_candidate(erased) or record_candidate_erased(candidate_id, erased_at, uow)


def _replicate_candidate(
    snapshot: CandidateSnapshot,
    uow: UnitOfWork[ExercisesRepository],
    merge: Callable[[CandidateSnapshot | None, CandidateSnapshot], CandidateSnapshot | None],
) -> bool:
    """Merge over the stored state, read locked; a first state is inserted only if absent.

    If another transaction inserted the candidate in between, merge again over its row.
    """
    stored = uow.repo.get_candidate(snapshot.candidate_id, lock=True)
    merged = merge(stored, snapshot)
    if merged is None:
        return False
    if stored is not None:
        uow.repo.put_candidate(merged)
        return True
    return uow.repo.add_candidate(merged) or _replicate_candidate(snapshot, uow, merge)


# -- lookups -------------------------------------------------------------------------------------


def _manager(
    uow: UnitOfWork[ExercisesRepository], field: str, manager_id: str, *, lock: bool = False
) -> Manager:
    manager = uow.repo.get_manager(manager_id, lock=lock)
    if manager is None:
        raise UnknownManager(field, manager_id)
    return manager


def _exercise(
    uow: UnitOfWork[ExercisesRepository], exercise_id: str, *, lock: bool = False
) -> Exercise:
    exercise = uow.repo.get_exercise(exercise_id, lock=lock)
    if exercise is None:
        raise UnknownExercise("exercise_id", exercise_id)
    return exercise
