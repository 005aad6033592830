"""The links hiring holds the flags of (SPEC §4; docs/runbooks/links.md).

COMM-030 (a leaked exercise reported to exercises), COMM-040 (a bonus credited by bonus) and
COMM-050 (a fine debited by bonus): each an event by default, or in `sync` mode the old
synchronous call, made inside the candidate's submission before it answers. COMM-020 (reading
the exercise to check an answer): hiring's own replica by default, or in `sync` mode a call to
exercises inside the submission.
"""

from __future__ import annotations

import json
from typing import Literal

from teacher_hiring.messaging.sinks import OutboxRow
from teacher_hiring.runtime.flags import RuntimeFlags
from teacher_hiring.runtime.links import HttpCall, MoneyCall, SwitchableRead

LinkMode = Literal["event", "sync"]
LINK_NAME = "complication"
FLAG = f"link.{LINK_NAME}"
CALLED_EVENT = "ExerciseCompletedMoreThenTenTimes"
CALL_PATH = "/api/complicate_exercise"

BONUS_LINK = "bonus-credit"
FINE_LINK = "fine-debit"
BONUS_EVENT = "BonusAdded"
FINE_EVENT = "FineAdded"

ANSWER_CHECK_LINK = "answer-check"
ReadMode = Literal["replica", "sync"]


def leak_report(row: OutboxRow) -> bytes:
    """The body of the synchronous API: the event's payload and its id, so that exercises
    applies a report once whether it came by this call, by the event, or by both."""
    event = json.loads(row.body)
    return json.dumps({**event["payload"], "event_id": event["event_id"]}).encode()


complication_link = HttpCall(
    name=LINK_NAME,
    event_name=CALLED_EVENT,
    path=CALL_PATH,
    body=leak_report,
    description="COMM-030: a version solved more than ten times, to be complicated",
    receiver="exercises",
)
"""In event mode ExerciseCompletedMoreThenTenTimes goes through the log; in sync mode the
submission that reports the leak calls POST /api/complicate_exercise on exercises before it
answers (and fails if exercises does), the relay retrying what such a call left."""

bonus_credit_link = MoneyCall(
    name=BONUS_LINK,
    event_name=BONUS_EVENT,
    description="COMM-040: a bonus credited to the author of a solved exercise",
)
"""In sync mode the submission that earns a bonus POSTs BonusAdded to bonus's /api/v0/money
before it answers, as the old hiring credited bonuses."""

fine_debit_link = MoneyCall(
    name=FINE_LINK,
    event_name=FINE_EVENT,
    description="COMM-050: a fine debited from the author of a leaked exercise",
)
"""In sync mode the submission that solves a leaked exercise POSTs FineAdded to bonus's
/api/v0/money before it answers, as the old hiring debited fines."""


def answer_check_link(flags: RuntimeFlags) -> SwitchableRead:
    """In replica mode answers are checked from hiring's replica of exercises; in sync mode
    the submission reads the exercise from exercises' GET /exercises/{id} first."""
    return SwitchableRead(
        name=ANSWER_CHECK_LINK,
        flags=flags,
        description="COMM-020: the exercise an answer is checked against",
        receiver="exercises",
    )
