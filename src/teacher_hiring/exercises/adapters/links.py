"""The links exercises holds the flags of (SPEC §4; docs/runbooks/links.md).

Exercise streaming: ExerciseUpdated pushed to hiring or as an event. COMM-080: a payment for
complication work as the PaymentCommited event, or in `sync` mode the old synchronous call to
bonus, made inside the manager's save before it answers.
"""

from __future__ import annotations

from typing import Literal

import httpx

from teacher_hiring.messaging.sinks import HttpPushSink
from teacher_hiring.runtime.flags import RuntimeFlags
from teacher_hiring.runtime.links import MONEY_CALL_PATH, SwitchableLink, called_in_request

LinkMode = Literal["push", "event"]
LINK_NAME = "exercise-updates"
FLAG = f"link.{LINK_NAME}"
PUSHED_EVENT = "ExerciseUpdated"
PUSH_PATH = "/api/v0/exercise"

PAYMENT_LINK = "payment"
PAYMENT_FLAG = f"link.{PAYMENT_LINK}"
PAYMENT_EVENT = "PaymentCommited"


def exercise_updates_link(
    flags: RuntimeFlags, hiring_url: str, timeout_s: float, auth: httpx.Auth | None = None
) -> SwitchableLink:
    """In push mode ExerciseUpdated goes to hiring's endpoint, and a manager's save waits for
    it (so candidates never answer a version that was replaced); in event mode it goes through
    the log like every other event."""
    return SwitchableLink(
        name=LINK_NAME,
        event_name=PUSHED_EVENT,
        call_mode="push",
        sink=HttpPushSink(
            hiring_url.rstrip("/") + PUSH_PATH,
            timeout_s=timeout_s,
            auth=auth,
            name=f"http-push:{LINK_NAME}",
        ),
        flags=flags,
        description="Exercise streaming: ExerciseUpdated to hiring",
        receiver="hiring",
    )


def payment_link(
    flags: RuntimeFlags, bonus_url: str, timeout_s: float, auth: httpx.Auth | None = None
) -> SwitchableLink:
    """In sync mode the save that closes a complication assignment POSTs PaymentCommited to
    bonus's /api/v0/money before it answers, as the old exercises paid managers."""
    return called_in_request(
        flags,
        name=PAYMENT_LINK,
        event_name=PAYMENT_EVENT,
        receiver_url=bonus_url,
        path=MONEY_CALL_PATH,
        timeout_s=timeout_s,
        auth=auth,
        description="COMM-080: a payment to the manager who complicated a leaked exercise",
        receiver="bonus",
    )
