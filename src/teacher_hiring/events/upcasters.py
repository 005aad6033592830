"""Every step between event versions, of every producer, in one upcaster.

Each service's consumers compose only the steps they need (their `consumers.upcaster()`);
this one, which knows them all, is what tests and tools use to read any stored event.
"""

from __future__ import annotations

from teacher_hiring.events import exercises, hiring
from teacher_hiring.events.hiring import LeakedVersion
from teacher_hiring.messaging.upcasting import Step, Upcaster

STEPS: dict[tuple[str, int], Step] = dict(exercises.STEPS)
"""(event name, from version) -> the step to the next version; the leak reports' step is not
here, as it needs a way to ask hiring (`event_upcaster(leaked_version)`)."""


def event_upcaster(leaked_version: LeakedVersion | None = None) -> Upcaster:
    """An upcaster knowing every step above, and the leak reports' step when given the way to
    ask hiring (only their consumer, exercises, needs it)."""
    upcaster = Upcaster.of(STEPS)
    if leaked_version is not None:
        upcaster.add_all(hiring.leak_steps(leaked_version))
    return upcaster
