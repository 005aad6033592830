"""COMM-030 (SPEC §4): a leaked exercise reported to exercises as an event or by a call."""

from __future__ import annotations

import json
from typing import Literal

from teacher_hiring.messaging.sinks import HttpPushSink, OutboxRow
from teacher_hiring.runtime.flags import RuntimeFlags
from teacher_hiring.runtime.links import SwitchableLink

LinkMode = Literal["event", "sync"]
LINK_NAME = "complication"
FLAG = f"link.{LINK_NAME}"
CALLED_EVENT = "ExerciseCompletedMoreThenTenTimes"
CALL_PATH = "/api/complicate_exercise"


def leak_report(row: OutboxRow) -> bytes:
    """The body of the synchronous API: the event's payload and its id, so that exercises
    applies a report once whether it came by this call, by the event, or by both."""
    event = json.loads(row.body)
    return json.dumps({**event["payload"], "event_id": event["event_id"]}).encode()


def complication_link(flags: RuntimeFlags, exercises_url: str, timeout_s: float) -> SwitchableLink:
    """In event mode ExerciseCompletedMoreThenTenTimes goes through the log; in sync mode
    hiring's relay calls POST /api/complicate_exercise on exercises and retries until it
    answers. Either way the candidate's submission never waits for exercises."""
    return SwitchableLink(
        name=LINK_NAME,
        event_name=CALLED_EVENT,
        call_mode="sync",
        sink=HttpPushSink(
            exercises_url.rstrip("/") + CALL_PATH, timeout_s=timeout_s, body=leak_report
        ),
        flags=flags,
        description="COMM-030: a version solved more than ten times, to be complicated",
        receiver="exercises",
    )
