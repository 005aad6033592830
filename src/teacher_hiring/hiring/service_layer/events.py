"""The leak report hiring produces, at the version an operator chose (`events.leak.version`).

Version 2 adds `completed_by`: the candidates whose completions of the version counted, with
who registered each and from where, so exercises can hold a payment earned mostly on the
assignee's own candidates. Version 1 names the leaked exercise version; version 0 (the seed's
schema) does not, and its consumer asks hiring which version the named candidate's completion
was of.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from teacher_hiring.hiring.domain.model import Exercise

LEAK = "ExerciseCompletedMoreThenTenTimes"

FAMILIES: dict[str, tuple[str, ...]] = {"leak": (LEAK,)}
"""The event families whose produced version an operator switches here, and their events."""
PRODUCIBLE_VERSIONS = (0, 1, 2)
"""The versions this code can build the payload of."""


@dataclass(frozen=True, slots=True)
class EventVersions:
    """The version of each family this service produces now."""

    leak: int = 2


def leak_payload(
    exercise: Exercise,
    candidate_id: str,
    version: int,
    completed_by: Callable[[], list[dict[str, Any]]],
) -> dict[str, Any]:
    """v1 names the version solved more than ten times; v0 leaves it to be asked for; v2 adds
    who completed it (`completed_by`, asked for only then)."""
    payload: dict[str, Any] = {"exercise_id": exercise.exercise_id}
    if version >= 1:
        payload["exercise_version"] = exercise.version
    payload |= {
        "title": exercise.title,
        "author_id": exercise.author_id,
        "candidate_id": candidate_id,
    }
    if version >= 2:
        payload["completed_by"] = completed_by()
    return payload
