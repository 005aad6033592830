"""The steps between the versions of the events in schemas/, one small pure function each.

Every consumer of these events reads an old version through them: the consumer runner raises
the payload to the version its handler is written for before calling it, so no handler ever
branches on versions. Each step turns a valid payload of one version into a valid payload of
the next; tests/unit/test_upcasters.py checks that on every stored version's example.

One step needs a fact the old event does not hold: which exercise version a leak report of v0
concerned. Only its producer, hiring, knows it (the version its candidate's completion was of),
so that step takes the consumer's way of asking (`LeakedVersion`); without one, no consumer of
v0 leak reports can be built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from teacher_hiring.messaging.upcasting import Step, Upcaster

# The defaults of `subject` and `difficulty` in ExerciseCreated/ExerciseUpdated v1.json.
DEFAULT_SUBJECT = "general"
DEFAULT_DIFFICULTY = 3


def exercise_v0_to_v1(payload: dict[str, Any]) -> dict[str, Any]:
    """US-160: an exercise written before subjects and difficulties gets the schema's defaults."""
    return {**payload, "subject": DEFAULT_SUBJECT, "difficulty": DEFAULT_DIFFICULTY}


def split_name(name: str) -> tuple[str, str]:
    """US-170: a full name as (first name, last name), split at the first run of whitespace.

    "Anna Maria Petrova" is ("Anna", "Maria Petrova"); a single word is (word, "").
    A name of whitespace only (v0 allowed it) is kept whole as the first name.
    """
    parts = name.split(maxsplit=1)
    if not parts:
        return name, ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def manager_v0_to_v1(payload: dict[str, Any]) -> dict[str, Any]:
    """US-170: `name` becomes first_name and last_name; a manager of v0 has no team."""
    first_name, last_name = split_name(payload["name"])
    return {
        "manager_id": payload["manager_id"],
        "first_name": first_name,
        "last_name": last_name,
        "team": None,
        "email": payload["email"],
    }


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


def leak_step(leaked_version: LeakedVersion) -> Step:
    """The v0 -> v1 step of leak reports, asking `leaked_version` for what v0 does not say."""

    def step(payload: dict[str, Any]) -> dict[str, Any]:
        return leak_v0_to_v1(payload, leaked_version(payload))

    return step


STEPS: dict[tuple[str, int], Step] = {
    ("ExerciseCreated", 0): exercise_v0_to_v1,
    ("ExerciseUpdated", 0): exercise_v0_to_v1,
    ("ManagerCreated", 0): manager_v0_to_v1,
    ("ManagerUpdated", 0): manager_v0_to_v1,
}
"""(event name, from version) -> the step to the next version."""


def event_upcaster(leaked_version: LeakedVersion | None = None) -> Upcaster:
    """An upcaster knowing every step above, and the leak reports' step when given the way to
    ask hiring (only their consumer, exercises, needs it); each consumer runner gets its own."""
    upcaster = Upcaster()
    for (event_name, from_version), step in STEPS.items():
        upcaster.add(event_name, from_version, step)
    if leaked_version is not None:
        upcaster.add(LEAK_EVENT, 0, leak_step(leaked_version))
    return upcaster
