"""The events exercises produces: the steps between the versions of its exercise and manager
events, which hiring (exercises and managers) and bonus (managers) read.

Each step turns a valid payload of one version into a valid payload of the next;
tests/unit/test_upcasters.py checks that on every stored version's example.
"""

from __future__ import annotations

from typing import Any

from teacher_hiring.messaging.upcasting import Step

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


EXERCISE_STEPS: dict[tuple[str, int], Step] = {
    ("ExerciseCreated", 0): exercise_v0_to_v1,
    ("ExerciseUpdated", 0): exercise_v0_to_v1,
}
"""(event name, from version) -> the step to the next version, for readers of exercises."""

MANAGER_STEPS: dict[tuple[str, int], Step] = {
    ("ManagerCreated", 0): manager_v0_to_v1,
    ("ManagerUpdated", 0): manager_v0_to_v1,
}
"""(event name, from version) -> the step to the next version, for readers of managers."""

STEPS: dict[tuple[str, int], Step] = {**EXERCISE_STEPS, **MANAGER_STEPS}
"""Every step of the events exercises produces."""
