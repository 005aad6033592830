"""The links exercises holds the flags of (SPEC §4; docs/runbooks/links.md).

Exercise streaming: ExerciseCreated and ExerciseUpdated pushed to hiring or as events.
COMM-080: a payment for complication work as the PaymentCommited event, or in `sync` mode the
old synchronous call to bonus, made inside the manager's save before it answers.
"""

from __future__ import annotations

from typing import Literal

from teacher_hiring.runtime.links import HttpCall, MoneyCall

LinkMode = Literal["push", "event"]
LINK_NAME = "exercise-updates"
FLAG = f"link.{LINK_NAME}"
PUSHED_EVENT = "ExerciseUpdated"
CREATED_EVENT = "ExerciseCreated"
PUSH_PATH = "/api/v0/exercise"

PAYMENT_LINK = "payment"
PAYMENT_FLAG = f"link.{PAYMENT_LINK}"
PAYMENT_EVENT = "PaymentCommited"


exercise_updates_link = HttpCall(
    name=LINK_NAME,
    event_name=PUSHED_EVENT,
    more_events=(CREATED_EVENT,),
    call_mode="push",
    in_request=False,
    path=PUSH_PATH,
    description="Exercise streaming: ExerciseUpdated and ExerciseCreated to hiring",
    receiver="hiring",
)
"""In push mode ExerciseUpdated and ExerciseCreated go to hiring's endpoint, and the manager's
save or creation waits for them: candidates never answer a version that was replaced, and a new
exercise can be assigned as soon as it exists. In event mode they go through the log like every
other event. One sink carries both, so they reach hiring in the order they were committed."""

payment_link = MoneyCall(
    name=PAYMENT_LINK,
    event_name=PAYMENT_EVENT,
    description="COMM-080: a payment to the manager who complicated a leaked exercise",
)
"""In sync mode the save that closes a complication assignment POSTs PaymentCommited to
bonus's /api/v0/money before it answers, as the old exercises paid managers."""
