"""The rules of checking an answer and of what a verdict sets off (SPEC section 3).

`judge` is the heart of a submission: given what hiring knows before it, it returns every
consequence (counters, rating, money, complication, promotion) as one immutable Verdict, so
the handler only has to store it and stage its events in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from teacher_hiring.hiring.domain.errors import (
    AnswerTooLong,
    AttemptLimitReached,
    StaleExerciseVersion,
)

CheckMode = Literal["exact", "normalized"]
CANDIDATE = "candidate"
TEACHER = "teacher"
SUBJECT_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"  # as in ExerciseCreated v1: a lowercase slug
SUBJECT_MAX = 50


@dataclass(frozen=True, slots=True)
class Rules:
    exercises_per_candidate: int = 3
    max_attempts_per_version: int = 5
    max_answer_chars: int = 10_000
    completions_before_complication: int = 10
    bonus_base_cents: int = 1000
    fine_cents: int = 500

    def bonus_cents(self, rating: int) -> int:
        """10.00 * (100 + rating) / 100, rounded down to the cent."""
        return self.bonus_base_cents * (100 + rating) // 100


def normalize_answer(text: str) -> str:
    """Trimmed, case-folded, every run of inner whitespace made one space."""
    return " ".join(text.casefold().split())


def rating_of(failed_first_attempts: int, attempted_candidates: int) -> int:
    """0-100: the share of candidates whose first attempt failed, rounded down."""
    if attempted_candidates == 0:
        return 0
    return 100 * failed_first_attempts // attempted_candidates


def is_newer_version(incoming: int, held: int | None) -> bool:
    """Replicas only move forward: a late or repeated version changes nothing."""
    return held is None or incoming > held


@dataclass(frozen=True, slots=True)
class AnswerKey:
    """What checking an answer needs, as exercises holds it now (COMM-020 in sync mode)."""

    version: int
    accepted_answers: tuple[str, ...]
    check_mode: CheckMode


@dataclass(frozen=True, slots=True)
class Exercise:
    """Hiring's replica of the current version of an exercise, with its rating counter."""

    exercise_id: str
    title: str
    author_id: str
    version: int
    accepted_answers: tuple[str, ...]
    check_mode: CheckMode
    rating_version: int = 0

    def accepts(self, answer: str) -> bool:
        if self.check_mode == "exact":
            return answer in self.accepted_answers
        given = normalize_answer(answer)
        return any(given == normalize_answer(accepted) for accepted in self.accepted_answers)

    def checked_by(self, key: AnswerKey) -> Exercise:
        """This version, checked with the answers exercises holds rather than the replica's.

        Exercises at another version than the replica means one of them moved on: the
        submission is refused as stale, naming exercises' version.
        """
        if key.version != self.version:
            raise StaleExerciseVersion(
                f"exercise_version: {self.version} is not the current version {key.version} "
                f"of exercise {self.exercise_id} at exercises",
                current_version=key.version,
            )
        return replace(self, accepted_answers=key.accepted_answers, check_mode=key.check_mode)

    def ensure_current(self, version: int) -> None:
        """Only the current version counts: older ones are leaked, newer ones unknown yet."""
        if version != self.version:
            relation = "older" if version < self.version else "newer"
            raise StaleExerciseVersion(
                f"exercise_version: {version} is {relation} than the current version "
                f"{self.version} of exercise {self.exercise_id}",
                not_yet=version > self.version,
                current_version=self.version,
            )


@dataclass(frozen=True, slots=True)
class VersionStats:
    completions: int = 0
    attempted_candidates: int = 0
    failed_first_attempts: int = 0
    rating: int = 0
    needs_complication: bool = False


@dataclass(frozen=True, slots=True)
class Bonus:
    amount_cents: int
    rating: int
    rating_version: int


@dataclass(frozen=True, slots=True)
class Fine:
    amount_cents: int
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """Everything one evaluated submission changes."""

    correct: bool
    attempt: int
    attempts_left: int
    first_attempt_failed: bool
    stats: VersionStats
    stats_changed: bool
    rating_version: int
    rating_published: bool
    completion_number: int | None
    money: Bonus | Fine | None
    complication_opened: bool
    becomes_teacher: bool


def ensure_answer_fits(answer: str, rules: Rules) -> None:
    if len(answer) > rules.max_answer_chars:
        raise AnswerTooLong(
            f"answer: longer than {rules.max_answer_chars} characters", field="answer"
        )


def judge(
    exercise: Exercise,
    stats: VersionStats,
    *,
    attempts_before: int,
    first_attempt_failed: bool,
    answer: str,
    unsolved_assigned: int,
    rules: Rules,
) -> Verdict:
    """Evaluate an answer to the current version by a candidate who has not solved it yet.

    `unsolved_assigned` counts the candidate's unsolved exercises, this one included.
    """
    if attempts_before >= rules.max_attempts_per_version:
        raise AttemptLimitReached(
            f"exercise_version: all {rules.max_attempts_per_version} attempts at version "
            f"{exercise.version} of exercise {exercise.exercise_id} are used",
            max_attempts=rules.max_attempts_per_version,
        )
    correct = exercise.accepts(answer)
    first = attempts_before == 0
    after, rating_version, published = stats, exercise.rating_version, False
    if first:
        after, published = _count_first_attempt(stats, correct)
        rating_version += 1 if published else 0
    completion: int | None = None
    money: Bonus | Fine | None = None
    opened = False
    if correct:
        completion = after.completions + 1
        after = replace(after, completions=completion)
        if completion <= rules.completions_before_complication:
            money = Bonus(rules.bonus_cents(after.rating), after.rating, rating_version)
        else:
            opened = completion == rules.completions_before_complication + 1
            after = replace(after, needs_complication=True) if opened else after
            reason = (
                f"leaked exercise solved: completion {completion} of version {exercise.version}"
            )
            money = Fine(rules.fine_cents, reason)
    attempt = attempts_before + 1
    return Verdict(
        correct=correct,
        attempt=attempt,
        attempts_left=rules.max_attempts_per_version - attempt,
        first_attempt_failed=(not correct) if first else first_attempt_failed,
        stats=after,
        stats_changed=first or correct,
        rating_version=rating_version,
        rating_published=published,
        completion_number=completion,
        money=money,
        complication_opened=opened,
        becomes_teacher=correct and unsolved_assigned <= 1,
    )


def _count_first_attempt(stats: VersionStats, correct: bool) -> tuple[VersionStats, bool]:
    """A candidate's first attempt moves the rating; the first one of a version defines it."""
    attempted = stats.attempted_candidates + 1
    failed = stats.failed_first_attempts + (0 if correct else 1)
    rating = rating_of(failed, attempted)
    after = replace(
        stats, attempted_candidates=attempted, failed_first_attempts=failed, rating=rating
    )
    return after, attempted == 1 or rating != stats.rating


@dataclass(frozen=True, slots=True)
class NewSubmission:
    """A submission as hiring records it, with the money its verdict issued (if any)."""

    id: str
    candidate_id: str
    exercise_id: str
    exercise_version: int
    answer: str
    correct: bool
    attempt_number: int
    idempotency_key: str | None
    response: str
    created_at: float
    money_kind: str | None = None
    money_cents: int | None = None
    money_manager_id: str | None = None


ERASED_NAME = "(erased)"
"""What an erased candidate's name reads as, in hiring's tables and in exercises' replica."""
ERASED_ANSWER = ""
"""What each answer of an erased candidate reads as."""


def erased_email(candidate_id: str) -> str:
    """An erased candidate's email: unique, and nobody's (RFC 2606's .invalid)."""
    return f"erased-{candidate_id}@erased.invalid"


@dataclass(frozen=True, slots=True)
class CandidateSide:
    """What a submission needs to know about the candidate, in one read."""

    name: str
    status: str
    assigned: bool
    solved_response: str | None
    keyed_response: str | None
    attempts: int
    first_attempt_failed: bool
    unsolved: int


@dataclass(frozen=True, slots=True)
class AssignableExercise:
    exercise_id: str
    title: str
    version: int
    subject: str
    difficulty: int
