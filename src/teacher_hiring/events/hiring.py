"""The events hiring produces: the steps between the versions of its leak report, which
exercises reads.

v1 -> v2 adds `completed_by`: a report of v1 says nothing of who completed the version, so it
reads as an empty list, no evidence, and its complication payment is made as before (a report
made before v2 cannot hold a payment). v0 -> v1 needs a fact the old event does not hold:
which exercise version a leak report of v0 concerned. Only its producer, hiring, knows it (the
version its candidate's completion was of), so the step takes the consumer's way of asking
(`LeakedVersion`); without one, no consumer of v0 leak reports can be built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from teacher_hiring.messaging.upcasting import Step

LEAK_EVENT = "ExerciseCompletedMoreThenTenTimes"

LeakedVersion = Callable[[dict[str, Any]], int]
"""The exercise version a v0 leak report (its payload) concerned, as hiring's records say."""


def leak_v0_to_v1(payload: dict[str, Any], exercise_version: int) -> dict[str, Any]:
    """A leak report of v0 with the version it concerned, learnt from its producer's records."""
    return {
        "exercise_id": payload["exercise_id"],
        "exercise_version": exercise_version,
        "title": payload["title"],
        "author_id": payload["author_id"],
        "candidate_id": payload["candidate_id"],
    }


def leak_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """A leak report of v1 names no completions: no evidence (paid as before v2)."""
    return {**payload, "completed_by": []}


def leak_step(leaked_version: LeakedVersion) -> Step:
    """The v0 -> v1 step of leak reports, asking `leaked_version` for what v0 does not say."""

    def step(payload: dict[str, Any]) -> dict[str, Any]:
        return leak_v0_to_v1(payload, leaked_version(payload))

    return step


def leak_steps(leaked_version: LeakedVersion) -> dict[tuple[str, int], Step]:
    """(event name, from version) -> the step to the next version, for readers of leak reports."""
    return {(LEAK_EVENT, 0): leak_step(leaked_version), (LEAK_EVENT, 1): leak_v1_to_v2}
