"""Hiring's command handlers: the only place where rules meet storage.

Each handler runs in one unit of work; every event it causes is staged in the outbox in that
same transaction, so state and events commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import orjson

from teacher_hiring.foundation.ids import new_id
from teacher_hiring.foundation.time import rfc3339
from teacher_hiring.hiring.domain import commands
from teacher_hiring.hiring.domain.errors import (
    CandidateNotFound,
    DuplicateSubmission,
    EmailAlreadyRegistered,
    EventRefused,
    ExerciseNotAssigned,
    ExerciseNotFound,
    NoExercisesAvailable,
)
from teacher_hiring.hiring.domain.model import (
    CANDIDATE,
    TEACHER,
    AnswerKey,
    Bonus,
    CandidateSide,
    Exercise,
    Fine,
    NewSubmission,
    Rules,
    Verdict,
    ensure_answer_fits,
    is_newer_version,
    judge,
)
from teacher_hiring.hiring.service_layer import events
from teacher_hiring.hiring.service_layer.erasure import sealed_name
from teacher_hiring.hiring.service_layer.events import EventVersions
from teacher_hiring.hiring.service_layer.ports import Repository
from teacher_hiring.hiring.service_layer.results import Registration, SubmissionVerdict
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.messaging.upcasting import Upcaster

EXERCISE_FEED = "hiring.exercises"
"""The consumer group of exercise events; the push endpoint claims under the same name."""
MANAGER_FEED = "hiring.managers"
PUSHED_EVENTS = {"ExerciseCreated": 1, "ExerciseUpdated": 1}
"""Events the push endpoint accepts, with the version this code reads (older ones are upcast)."""


# -- candidates ----------------------------------------------------------------------------------


def register_candidate(
    cmd: commands.RegisterCandidate, uow: UnitOfWork[Repository], rules: Rules
) -> Registration:
    """Create a candidate with the least-solved assignable exercises (fewer if fewer exist),
    of the candidate's subject only when they named one (US-160).

    With an Idempotency-Key: the registration first made with it, as it was answered, when
    the key comes again with the same body (a client whose answer was lost); nothing changes.
    """
    with uow:
        earlier = uow.repo.registered_with_key(cmd)
        if earlier is not None:
            return earlier
        if uow.repo.email_registered(cmd.email):
            raise EmailAlreadyRegistered()
        chosen = uow.repo.assignable_exercises(rules.exercises_per_candidate, cmd.subject)
        if not chosen:
            of_subject = "" if cmd.subject is None else f" of subject {cmd.subject!r}"
            raise NoExercisesAvailable(
                f"no exercise{of_subject} can be assigned yet: new exercises may still be on "
                "their way to hiring, or all need complication; try again shortly",
                subject=cmd.subject,
            )
        registered = Registration(
            id=new_id(),
            name=cmd.name,
            email=cmd.email,
            subject=cmd.subject,
            status=CANDIDATE,
            exercises=tuple(chosen),
        )
        now = uow.clock()
        earlier = uow.repo.add_candidate(registered, now, cmd)
        if earlier is not None:  # a twin sent with the same key committed meanwhile
            return earlier
        uow.stage(
            "CandidateCreated",
            {
                "candidate_id": registered.id,
                "candidate_name": sealed_name(uow, registered.id, cmd.name, now),
                "created_at": rfc3339(now),
                "status": CANDIDATE,
                "exercises_to_solve": [{"exercise_id": e.exercise_id} for e in chosen],
            },
        )
        uow.commit()
    return registered


# -- submissions ---------------------------------------------------------------------------------


class SubmissionCalls(Protocol):
    """The synchronous calls of the old wiring a submission makes, as the links' modes say."""

    def answer_key(self, exercise_id: str) -> AnswerKey | None:
        """The answers from exercises (COMM-020 in sync mode), or None: check from the replica."""

    def deliver(self, staged: Sequence[Envelope], *, done: str, **extra: Any) -> None:
        """Call the receivers of the committed events whose links call in the request."""


def submit_answer(
    cmd: commands.SubmitAnswer,
    uow: UnitOfWork[Repository],
    rules: Rules,
    calls: SubmissionCalls | None = None,
    versions: Callable[[], EventVersions] = EventVersions,
) -> SubmissionVerdict:
    """Check an answer and apply every consequence; replays return the first verdict.

    With `calls` (links in sync mode, the old wiring) the exercise is read from exercises
    before the transaction and the consequences are delivered after its commit; a failed call
    fails the request, what was committed stays (see runtime.link_calls). `versions` says
    which version of each switchable event to produce; it is asked only when such an event is
    staged, so a submission that stages none never reads the operator's flags.
    """
    ensure_answer_fits(cmd.answer, rules)
    key = None if calls is None else calls.answer_key(cmd.exercise_id)
    try:
        response = _submit(cmd, uow, rules, key, versions)
    except DuplicateSubmission:
        # A concurrent twin committed first; this run now finds and replays its verdict.
        response = _submit(cmd, uow, rules, key, versions)
    if calls is not None and uow.staged:
        verdict = "correct" if response.correct else "wrong"
        calls.deliver(
            uow.staged,
            done=f"the answer was checked ({verdict}) and stored",
            submission_id=response.submission_id,
        )
    return response


def _submit(
    cmd: commands.SubmitAnswer,
    uow: UnitOfWork[Repository],
    rules: Rules,
    key: AnswerKey | None,
    versions: Callable[[], EventVersions],
) -> SubmissionVerdict:
    """The verdict (a replay of the first one, or a new one recorded), in one transaction."""
    with uow:
        candidate = uow.repo.candidate_side(
            cmd.candidate_id, cmd.exercise_id, cmd.exercise_version, cmd.idempotency_key
        )
        if candidate is None:
            raise CandidateNotFound(f"candidate_id: no candidate {cmd.candidate_id}")
        found = uow.repo.exercise_side(cmd.exercise_id)
        if found is None:
            raise ExerciseNotFound(f"exercise_id: no exercise {cmd.exercise_id}")
        exercise, stats = found
        if not candidate.assigned:
            raise ExerciseNotAssigned(
                f"exercise_id: exercise {cmd.exercise_id} is not assigned to this candidate"
            )
        replay = candidate.keyed_response or candidate.solved_response
        if replay is not None:  # nothing written: the block rolls back, releasing the locks
            return SubmissionVerdict.replay_of(orjson.loads(replay))
        exercise.ensure_current(cmd.exercise_version)
        if key is not None:
            exercise = exercise.checked_by(key)
        verdict = judge(
            exercise,
            stats,
            attempts_before=candidate.attempts,
            first_attempt_failed=candidate.first_attempt_failed,
            answer=cmd.answer,
            unsolved_assigned=candidate.unsolved,
            rules=rules,
        )
        response = _record(uow, cmd, exercise, candidate, verdict, versions)
        uow.commit()
    return response


def _record(
    uow: UnitOfWork[Repository],
    cmd: commands.SubmitAnswer,
    exercise: Exercise,
    candidate: CandidateSide,
    verdict: Verdict,
    versions: Callable[[], EventVersions],
) -> SubmissionVerdict:
    """Store the verdict and stage its events, rating first so bonuses follow their rating."""
    submission_id, now = new_id(), uow.clock()
    at = rfc3339(now)
    response = SubmissionVerdict(
        submission_id=submission_id,
        exercise_id=exercise.exercise_id,
        exercise_version=exercise.version,
        correct=verdict.correct,
        attempt=verdict.attempt,
        attempts_left=verdict.attempts_left,
        solved=verdict.correct,
        candidate_status=TEACHER if verdict.becomes_teacher else candidate.status,
        replayed=False,
    )
    money = verdict.money
    uow.repo.add_submission(
        NewSubmission(
            id=submission_id,
            candidate_id=cmd.candidate_id,
            exercise_id=exercise.exercise_id,
            exercise_version=exercise.version,
            answer=cmd.answer,
            correct=verdict.correct,
            attempt_number=verdict.attempt,
            idempotency_key=cmd.idempotency_key,
            response=orjson.dumps(response).decode(),
            created_at=now,
            money_kind=None if money is None else "bonus" if isinstance(money, Bonus) else "fine",
            money_cents=None if money is None else money.amount_cents,
            money_manager_id=None if money is None else exercise.author_id,
        )
    )
    uow.repo.count_attempt(
        cmd.candidate_id,
        exercise.exercise_id,
        exercise.version,
        attempts=verdict.attempt,
        first_attempt_failed=verdict.first_attempt_failed,
    )
    if verdict.stats_changed:
        uow.repo.save_stats(exercise.exercise_id, exercise.version, verdict.stats)
    if verdict.rating_published:
        uow.repo.set_rating_version(exercise.exercise_id, verdict.rating_version)
        uow.stage("TaskRatingChanged", _rating_payload(exercise, verdict, at))
    if verdict.correct:
        uow.repo.mark_solved(
            cmd.candidate_id, exercise.exercise_id, exercise.version, submission_id, now
        )
    if money is not None:
        _stage_money(uow, money, exercise, verdict, cmd.candidate_id, submission_id, at)
    if verdict.complication_opened:
        version = versions().leak
        payload = events.leak_payload(
            exercise,
            cmd.candidate_id,
            version,
            lambda: uow.repo.completed_by(
                exercise.exercise_id, exercise.version, verdict.completion_number or 0
            ),
        )
        uow.stage(events.LEAK, payload, version=version)
    if verdict.becomes_teacher:
        _promote(uow, cmd.candidate_id, candidate.name, now)
    return response


def _rating_payload(exercise: Exercise, verdict: Verdict, at: str) -> dict[str, Any]:
    return {
        "exercise_id": exercise.exercise_id,
        "exercise_version": exercise.version,
        "rating": verdict.stats.rating,
        "rating_version": verdict.rating_version,
        "attempted_candidates": verdict.stats.attempted_candidates,
        "failed_first_attempts": verdict.stats.failed_first_attempts,
        "changed_at": at,
    }


def _stage_money(
    uow: UnitOfWork[Repository],
    money: Bonus | Fine,
    exercise: Exercise,
    verdict: Verdict,
    candidate_id: str,
    submission_id: str,
    at: str,
) -> None:
    common = {
        "manager_id": exercise.author_id,
        "amount_cents": money.amount_cents,
        "submission_id": submission_id,
        "candidate_id": candidate_id,
        "exercise_id": exercise.exercise_id,
        "exercise_version": exercise.version,
        "completion_number": verdict.completion_number,
    }
    if isinstance(money, Bonus):
        payload = {**common, "rating": money.rating, "rating_version": money.rating_version}
        uow.stage("BonusAdded", {**payload, "occurred_at": at})
    else:
        uow.stage("FineAdded", {**common, "reason": money.reason, "occurred_at": at})


def _promote(uow: UnitOfWork[Repository], candidate_id: str, name: str, now: float) -> None:
    uow.repo.set_status(candidate_id, TEACHER, now)
    solved = uow.repo.assigned_exercise_ids(candidate_id)
    uow.stage(
        "CandidateUpdated",
        {
            "candidate_id": candidate_id,
            "candidate_name": sealed_name(uow, candidate_id, name, now),
            "status": TEACHER,
            "updated_at": rfc3339(now),
            "exercises_to_solve": [],
            "exercises_solved": [{"exercise_id": exercise_id} for exercise_id in solved],
        },
    )


# -- replicas ------------------------------------------------------------------------------------


def replicate_exercise(cmd: commands.ReplicateExercise, uow: UnitOfWork[Repository]) -> bool:
    """Make this version current with fresh stats, unless a newer one is held (then False)."""
    with uow:
        applied = _replicate_exercise(cmd, uow)
        uow.commit()
    return applied


def _replicate_exercise(cmd: commands.ReplicateExercise, uow: UnitOfWork[Repository]) -> bool:
    held = uow.repo.replicated_version(cmd.exercise_id)
    if not is_newer_version(cmd.version, held):
        return False
    return uow.repo.replicate_exercise(cmd, held=held, at=uow.clock())


def receive_pushed_exercise(
    envelope: Envelope, uow: UnitOfWork[Repository], upcaster: Upcaster
) -> bool:
    """The push side of the exercise link: applied once whether it came by push or by the log.

    The envelope is already validated against the registry; an older version is upcast first,
    as the event consumer does. True if the replica changed.
    """
    newest = PUSHED_EVENTS.get(envelope.event_name)
    if newest is None:
        accepted = " or ".join(PUSHED_EVENTS)
        raise EventRefused(f"event_name: {envelope.event_name} is not accepted here ({accepted})")
    if envelope.event_version > newest:
        raise EventRefused(
            f"event_version: {envelope.event_name} v{envelope.event_version} is newer than "
            f"hiring reads (v{newest})"
        )
    with uow:
        applied = False
        if uow.claim(EXERCISE_FEED, envelope):
            current = upcaster.upcast(envelope, newest)
            cmd = commands.ReplicateExercise.from_payload(current.payload)
            applied = _replicate_exercise(cmd, uow)
        uow.commit()
    return applied


def replicate_manager(cmd: commands.ReplicateManager, uow: UnitOfWork[Repository]) -> None:
    with uow:
        uow.repo.replicate_manager(cmd, uow.clock())
        uow.commit()
