"""The calls a submission makes to other services when its links are in sync mode.

This is the old wiring (the first document's "today" column), kept as modes of the links so
that it can be measured next to the new one: COMM-020 reads the exercise from exercises
before checking, COMM-030/040/050 call exercises and bonus after the commit, before the
candidate gets an answer. With every link in its default mode none of this runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from teacher_hiring.hiring.adapters import links
from teacher_hiring.hiring.adapters.exercises_client import ExercisesReader
from teacher_hiring.hiring.domain.errors import ExerciseNotFound
from teacher_hiring.hiring.domain.model import AnswerKey
from teacher_hiring.hiring.settings import HiringSettings
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.tracing import current_trace_id
from teacher_hiring.runtime.link_calls import CALLS, CallFailed, CallsInRequest
from teacher_hiring.runtime.links import (
    Switch,
    SwitchableRead,
    left_to_requests,
    router_of,
)
from teacher_hiring.runtime.service import ServiceRuntime


@dataclass
class HiringCalls:
    """hiring's side of the old wiring, by the links' modes at the moment of each call."""

    answer_check: SwitchableRead
    reader: ExercisesReader
    deliveries: CallsInRequest

    @property
    def links(self) -> list[Switch]:
        """Every link whose flag hiring holds, for /operator/links."""
        return [*self.deliveries.links, self.answer_check]

    def active(self) -> bool:
        """Whether a submission makes any call now (it then runs in a worker thread)."""
        return self.answer_check.calls or self.deliveries.active()

    def answer_key(self, exercise_id: str) -> AnswerKey | None:
        if not self.answer_check.calls:
            return None
        try:
            key = self.reader.answer_key(exercise_id, current_trace_id())
        except CallFailed:
            CALLS.labels("hiring", self.answer_check.name, "failed").inc()
            raise
        CALLS.labels("hiring", self.answer_check.name, "delivered").inc()
        if key is None:
            raise ExerciseNotFound(f"exercise_id: exercises knows no exercise {exercise_id}")
        return key

    def deliver(self, staged: Sequence[Envelope], *, done: str, **extra: Any) -> None:
        self.deliveries.deliver(staged, done=done, **extra)


def wire(runtime: ServiceRuntime, settings: HiringSettings) -> HiringCalls:
    """Build hiring's links, point its relay at them, and return the submission's calls."""
    flags, timeout_s, registry = runtime.flags, settings.call_timeout_s, runtime.registry
    to_exercises, to_bonus = runtime.service_auth("exercises"), runtime.service_auth("bonus")
    produced = [
        links.complication_link(flags, settings.exercises_url, timeout_s, to_exercises, registry),
        links.bonus_credit_link(flags, settings.bonus_url, timeout_s, to_bonus, registry),
        links.fine_debit_link(flags, settings.bonus_url, timeout_s, to_bonus, registry),
    ]
    runtime.relay.route = router_of(produced)
    runtime.relay.deferred = left_to_requests(produced)
    reader = ExercisesReader(settings.exercises_url, timeout_s, to_exercises)
    runtime.on_close += [link.sink.close for link in produced] + [reader.close]
    return HiringCalls(
        answer_check=links.answer_check_link(flags),
        reader=reader,
        deliveries=CallsInRequest(runtime.engine, runtime.name, produced),
    )


def default_flags(settings: HiringSettings) -> dict[str, str]:
    """The links' modes before an operator sets them."""
    return {
        links.FLAG: settings.complication_link,
        f"link.{links.BONUS_LINK}": settings.bonus_credit_link,
        f"link.{links.FINE_LINK}": settings.fine_debit_link,
        f"link.{links.ANSWER_CHECK_LINK}": settings.answer_check_link,
    }
