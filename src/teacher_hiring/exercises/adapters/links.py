"""The exercise-streaming link to hiring (SPEC §4): ExerciseUpdated pushed or as an event."""

from __future__ import annotations

from typing import Literal

from teacher_hiring.messaging.sinks import HttpPushSink
from teacher_hiring.runtime.flags import RuntimeFlags
from teacher_hiring.runtime.links import SwitchableLink

LinkMode = Literal["push", "event"]
LINK_NAME = "exercise-updates"
FLAG = f"link.{LINK_NAME}"
PUSHED_EVENT = "ExerciseUpdated"
PUSH_PATH = "/api/v0/exercise"


def exercise_updates_link(flags: RuntimeFlags, hiring_url: str, timeout_s: float) -> SwitchableLink:
    """In push mode ExerciseUpdated goes to hiring's endpoint, and a manager's save waits for
    it (so candidates never answer a version that was replaced); in event mode it goes through
    the log like every other event."""
    return SwitchableLink(
        name=LINK_NAME,
        event_name=PUSHED_EVENT,
        call_mode="push",
        sink=HttpPushSink(hiring_url.rstrip("/") + PUSH_PATH, timeout_s=timeout_s),
        flags=flags,
        description="Exercise streaming: ExerciseUpdated to hiring",
        receiver="hiring",
    )
