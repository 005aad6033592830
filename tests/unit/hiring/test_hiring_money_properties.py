"""Properties of the money and rating rules of hiring, for any numbers (no database, no web)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from functools import partial
from math import floor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teacher_hiring.hiring.domain.errors import AttemptLimitReached
from teacher_hiring.hiring.domain.model import (
    Bonus,
    Exercise,
    Fine,
    Rules,
    VersionStats,
    judge,
    rating_of,
)

ratings = st.integers(0, 100)
bases = st.integers(1, 10**9)


@given(base=bases, rating=ratings)
def test_a_bonus_is_base_times_100_plus_rating_over_100_rounded_down_to_the_cent(
    base: int, rating: int
) -> None:
    cents = Rules(bonus_base_cents=base).bonus_cents(rating)

    assert type(cents) is int
    assert cents == floor(Fraction(base * (100 + rating), 100))
    assert base <= cents <= 2 * base


@given(base=bases, low=ratings, high=ratings)
def test_a_harder_exercise_never_pays_less(base: int, low: int, high: int) -> None:
    low, high = sorted((low, high))
    rules = Rules(bonus_base_cents=base)
    assert rules.bonus_cents(low) <= rules.bonus_cents(high)


@given(attempted=st.integers(1, 10**6), data=st.data())
def test_the_rating_is_the_failed_first_attempt_share_in_percent_rounded_down(
    attempted: int, data: st.DataObject
) -> None:
    failed = data.draw(st.integers(0, attempted))

    rating = rating_of(failed, attempted)

    assert rating == floor(Fraction(100 * failed, attempted))
    assert 0 <= rating <= 100
    assert rating_of(failed, attempted) <= rating_of(min(failed + 1, attempted), attempted)


EXERCISE = Exercise("e1", "Sum", "m1", 1, ("42",), "normalized", rating_version=4)
RULES = Rules()


@given(
    attempts=st.lists(st.tuples(st.integers(0, 24), st.booleans()), max_size=120),
)
def test_a_version_pays_ten_bonuses_then_fines_and_asks_for_one_complication(
    attempts: list[tuple[int, bool]],
) -> None:
    """Candidates answer one exercise version in any order, right or wrong, until they solve it
    or run out of attempts; the money and ratings follow SPEC section 3 at every step."""
    exercise, stats = EXERCISE, VersionStats()
    tried: dict[int, int] = {}
    first_failed: dict[int, bool] = {}
    solved: set[int] = set()
    bonuses: list[Bonus] = []
    fines: list[Fine] = []
    opened = 0
    for candidate, correct in attempts:
        if candidate in solved:
            continue  # a re-solve is answered from the first verdict, never judged again

        answer = partial(
            judge,
            exercise,
            stats,
            attempts_before=tried.get(candidate, 0),
            first_attempt_failed=first_failed.get(candidate, False),
            answer="42" if correct else "41",
            unsolved_assigned=2,
            rules=RULES,
        )
        if tried.get(candidate, 0) == RULES.max_attempts_per_version:
            with pytest.raises(AttemptLimitReached):
                answer()
            continue
        verdict = answer()

        assert verdict.rating_version == exercise.rating_version + int(verdict.rating_published)
        assert verdict.stats.rating == rating_of(
            verdict.stats.failed_first_attempts, verdict.stats.attempted_candidates
        )
        if isinstance(verdict.money, Bonus):
            # computed with the rating this very submission left, and carrying it
            assert verdict.money.rating == verdict.stats.rating
            assert verdict.money.rating_version == verdict.rating_version
            assert verdict.money.amount_cents == RULES.bonus_cents(verdict.stats.rating)
            bonuses.append(verdict.money)
        elif isinstance(verdict.money, Fine):
            assert verdict.money.amount_cents == RULES.fine_cents
            fines.append(verdict.money)
        assert (verdict.money is not None) == correct
        opened += int(verdict.complication_opened)
        if tried.get(candidate, 0) == 0:
            first_failed[candidate] = not correct
        tried[candidate] = tried.get(candidate, 0) + 1
        if correct:
            solved.add(candidate)
        stats = verdict.stats
        exercise = replace(exercise, rating_version=verdict.rating_version)

    limit = RULES.completions_before_complication
    assert stats.completions == len(solved)
    assert len(bonuses) == min(len(solved), limit)
    assert len(fines) == max(0, len(solved) - limit)
    assert opened == (1 if len(solved) > limit else 0)
    assert stats.needs_complication == (len(solved) > limit)
    assert stats.attempted_candidates == len(tried)
    assert stats.failed_first_attempts == sum(first_failed.values())
