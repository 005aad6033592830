"""The exercise-streaming link to hiring (SPEC §4): ExerciseUpdated pushed or as an event."""

from __future__ import annotations

from typing import Literal

from teacher_hiring.messaging.sinks import HttpPushSink, Sink

LinkMode = Literal["push", "event"]
PUSHED_EVENT = "ExerciseUpdated"
PUSH_PATH = "/api/v0/exercise"


class ExerciseUpdatesLink:
    """The relay's route: ExerciseUpdated goes to hiring's endpoint in push mode, to the log in
    event mode. The mode is read on every relay pass, so it can be switched at run time; rows
    not yet relayed leave by the mode in force when they do (hiring de-duplicates by event id).
    """

    def __init__(self, mode: LinkMode, hiring_url: str, timeout_s: float) -> None:
        self.mode: LinkMode = mode
        self.sink = HttpPushSink(hiring_url.rstrip("/") + PUSH_PATH, timeout_s=timeout_s)

    def route(self, event_name: str) -> Sink | None:
        if self.mode == "push" and event_name == PUSHED_EVENT:
            return self.sink
        return None

    def close(self) -> None:
        self.sink.close()
