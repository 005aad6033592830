"""Hiring's business rules (SPEC section 3), with no database and no web."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teacher_hiring.foundation.time import rfc3339
from teacher_hiring.hiring.domain.errors import (
    AnswerTooLong,
    AttemptLimitReached,
    StaleExerciseVersion,
)
from teacher_hiring.hiring.domain.model import (
    Bonus,
    Exercise,
    Fine,
    Rules,
    Verdict,
    VersionStats,
    ensure_answer_fits,
    is_newer_version,
    judge,
    normalize_answer,
    rating_of,
)

RULES = Rules()
EXERCISE = Exercise(
    exercise_id="e1",
    title="Sum",
    author_id="m1",
    version=1,
    accepted_answers=("Forty two", "42"),
    check_mode="normalized",
    rating_version=0,
)


def answer(
    given_answer: str,
    *,
    stats: VersionStats | None = None,
    attempts_before: int = 0,
    first_failed: bool = False,
    unsolved: int = 3,
    exercise: Exercise = EXERCISE,
    rules: Rules = RULES,
) -> Verdict:
    return judge(
        exercise,
        stats or VersionStats(),
        attempts_before=attempts_before,
        first_attempt_failed=first_failed,
        answer=given_answer,
        unsolved_assigned=unsolved,
        rules=rules,
    )


# -- checking ------------------------------------------------------------------------------------


def test_normalized_check_trims_casefolds_and_collapses_whitespace() -> None:
    assert normalize_answer("  Forty\t\n TWO  ") == "forty two"
    assert normalize_answer("STRASSE") == normalize_answer("straße")
    assert EXERCISE.accepts("  forty   TWO ")
    assert not EXERCISE.accepts("fortytwo")


def test_exact_check_needs_the_very_same_string() -> None:
    exact = replace(EXERCISE, check_mode="exact")
    assert exact.accepts("Forty two")
    assert not exact.accepts("forty two")
    assert not exact.accepts("42 ")


def test_only_the_current_version_may_be_answered() -> None:
    current = replace(EXERCISE, version=2)
    current.ensure_current(2)
    for version in (1, 3):
        with pytest.raises(StaleExerciseVersion) as refused:
            current.ensure_current(version)
        assert refused.value.extra == {"current_version": 2}
        # A newer version is on its way to hiring: asking again may succeed; an older never.
        assert refused.value.not_yet is (version == 3)


def test_answers_longer_than_the_limit_are_refused_naming_answer() -> None:
    ensure_answer_fits("x" * 10_000, RULES)
    with pytest.raises(AnswerTooLong, match="answer"):
        ensure_answer_fits("x" * 10_001, RULES)


def test_sixth_attempt_at_a_version_is_refused() -> None:
    assert answer("wrong", attempts_before=4).attempts_left == 0
    with pytest.raises(AttemptLimitReached):
        answer("42", attempts_before=5)


# -- rating --------------------------------------------------------------------------------------


def test_rating_is_the_floor_of_the_failed_first_attempt_share() -> None:
    assert rating_of(0, 0) == 0
    assert rating_of(1, 3) == 33
    assert rating_of(2, 3) == 66
    assert rating_of(3, 3) == 100


@given(st.integers(0, 500), st.integers(1, 500))
def test_rating_is_always_between_0_and_100(failed: int, extra: int) -> None:
    attempted = failed + extra - 1 if failed else extra
    assert 0 <= rating_of(min(failed, attempted), attempted) <= 100


def test_the_first_attempt_on_a_version_defines_the_rating_even_at_zero() -> None:
    verdict = answer("42")
    assert verdict.rating_published and verdict.rating_version == 1
    assert verdict.stats.rating == 0 and verdict.stats.attempted_candidates == 1


def test_a_first_attempt_that_keeps_the_rating_publishes_nothing() -> None:
    verdict = answer("42", stats=VersionStats(completions=1, attempted_candidates=1))
    assert not verdict.rating_published
    assert verdict.rating_version == EXERCISE.rating_version


def test_a_failed_first_attempt_raises_the_rating_and_its_version() -> None:
    exercise = replace(EXERCISE, rating_version=7)
    verdict = answer("wrong", stats=VersionStats(attempted_candidates=1), exercise=exercise)
    assert verdict.stats.rating == 50 and verdict.stats.failed_first_attempts == 1
    assert verdict.rating_published and verdict.rating_version == 8
    assert verdict.first_attempt_failed


def test_later_attempts_do_not_move_the_rating() -> None:
    stats = VersionStats(attempted_candidates=2, failed_first_attempts=1, rating=50)
    verdict = answer("wrong", stats=stats, attempts_before=1, first_failed=True)
    assert not verdict.stats_changed and verdict.stats == stats
    assert not verdict.rating_published


# -- money and complication ----------------------------------------------------------------------


def test_bonus_grows_with_rating_rounded_down_to_the_cent() -> None:
    assert Rules().bonus_cents(0) == 1000
    assert Rules().bonus_cents(40) == 1400
    assert Rules(bonus_base_cents=999).bonus_cents(33) == 1328


def test_bonus_uses_the_rating_updated_by_the_same_submission() -> None:
    stats = VersionStats(attempted_candidates=1, failed_first_attempts=1, rating=100)
    exercise = replace(EXERCISE, rating_version=1)
    verdict = answer("42", stats=stats, exercise=exercise)
    assert verdict.money == Bonus(amount_cents=1500, rating=50, rating_version=2)
    assert verdict.completion_number == 1


def test_tenth_completion_still_pays_a_bonus() -> None:
    verdict = answer("42", stats=VersionStats(completions=9, attempted_candidates=9))
    assert isinstance(verdict.money, Bonus) and verdict.completion_number == 10
    assert not verdict.complication_opened and not verdict.stats.needs_complication


def test_eleventh_completion_opens_one_complication_assignment_and_fines() -> None:
    verdict = answer("42", stats=VersionStats(completions=10, attempted_candidates=10))
    assert verdict.complication_opened and verdict.stats.needs_complication
    assert verdict.money == Fine(500, "leaked exercise solved: completion 11 of version 1")


def test_later_completions_fine_without_opening_another_assignment() -> None:
    leaked = VersionStats(completions=11, attempted_candidates=11, needs_complication=True)
    verdict = answer("42", stats=leaked)
    assert not verdict.complication_opened
    assert isinstance(verdict.money, Fine) and verdict.completion_number == 12


def test_a_wrong_answer_moves_no_money() -> None:
    verdict = answer("wrong")
    assert verdict.money is None and verdict.completion_number is None
    assert verdict.stats.completions == 0


# -- candidate status and replicas ---------------------------------------------------------------


def test_solving_the_last_unsolved_exercise_makes_a_teacher() -> None:
    assert answer("42", unsolved=1).becomes_teacher
    assert not answer("42", unsolved=2).becomes_teacher
    assert not answer("wrong", unsolved=1).becomes_teacher


def test_replicas_only_move_forward() -> None:
    assert is_newer_version(1, None)
    assert is_newer_version(3, 2)
    assert not is_newer_version(2, 2)
    assert not is_newer_version(1, 2)


def test_times_leave_as_rfc3339_utc_with_z() -> None:
    assert rfc3339(0) == "1970-01-01T00:00:00.000000Z"
