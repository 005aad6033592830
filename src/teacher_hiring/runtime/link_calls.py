"""The old wiring's synchronous calls, made inside the request that caused them.

A link whose call is made in the request (`SwitchableLink.request_window_s`) has its event
committed to the outbox like any other; then, before the request answers, `CallsInRequest`
POSTs it to the receiver and marks the row sent. A receiver that fails makes the request fail
the way a synchronous call does: 504 when it does not answer in time, 503 when it cannot be
reached, 502 when it answers with an error. What the request committed stays committed, and the
undelivered event stays in the outbox: the relay delivers it once the link's window has passed
and the receiver answers (the old system lost it, or paid it twice when the caller retried; the
money rule of this system holds in both wirings). The receiver de-duplicates by event id.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter
from sqlalchemy import Engine

from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.sinks import OutboxRow, PushRefused, PushTimedOut, PushUnreachable
from teacher_hiring.messaging.tables import outbox
from teacher_hiring.runtime.links import SwitchableLink

CALLS = Counter(
    "link_calls_total",
    "Synchronous calls made inside requests (the old wiring), by link and outcome",
    ["service", "link", "outcome"],
)


class CallFailed(Exception):
    """A synchronous call to another service failed; `extra` joins the error body."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra: dict[str, Any] = extra


class ReceiverTimedOut(CallFailed):
    pass


class ReceiverUnavailable(CallFailed):
    pass


class ReceiverRefused(CallFailed):
    pass


CALL_ERRORS: dict[type[Exception], int] = {
    ReceiverTimedOut: 504,
    ReceiverUnavailable: 503,
    ReceiverRefused: 502,
}
"""Joined to the error map of every service that calls another inside a request."""


def call_failed(receiver: str, problem: Exception, consequence: str, **extra: Any) -> CallFailed:
    """The error a request answers with when its call to `receiver` failed with `problem` (a
    sink's PushFailed or an httpx error), saying what the caller is left with."""
    if isinstance(problem, PushTimedOut):
        kind: type[CallFailed] = ReceiverTimedOut
        what = "did not answer in time"
    elif isinstance(problem, PushRefused):
        kind, what = ReceiverRefused, f"answered {problem.status}"
    elif isinstance(problem, PushUnreachable):
        kind, what = ReceiverUnavailable, "cannot be reached"
    else:
        kind, what = ReceiverUnavailable, "failed"
    return kind(f"{receiver}: {what} ({problem}); {consequence}", service=receiver, **extra)


@dataclass
class CallsInRequest:
    """Delivers the staged events of links in call mode from the request that staged them."""

    engine: Engine
    service: str
    links: Sequence[SwitchableLink]

    def active(self) -> bool:
        return any(link.in_request for link in self.links)

    def deliver(self, staged: Sequence[Envelope], *, done: str, **extra: Any) -> None:
        """POST each committed event whose link calls in the request, in the order staged.

        Stops at the first failure and raises CallFailed naming the receiver; `done` says what
        the request already committed, `extra` joins the error body. What was delivered is
        marked sent, the rest is left to the relay.
        """
        delivered: list[str] = []
        try:
            for envelope in staged:
                link = self._calling(envelope.event_name)
                if link is None:
                    continue
                try:
                    link.sink.deliver([_row(envelope)])
                except Exception as exc:
                    CALLS.labels(self.service, link.name, "failed").inc()
                    consequence = (
                        f"{done}; its {envelope.event_name} waits in the outbox of {self.service} "
                        f"until {link.receiver} answers"
                    )
                    raise call_failed(
                        link.receiver,
                        exc,
                        consequence,
                        link=link.name,
                        event_id=envelope.event_id,
                        **extra,
                    ) from exc
                CALLS.labels(self.service, link.name, "delivered").inc()
                delivered.append(envelope.event_id)
        finally:
            if delivered:
                self._mark_sent(delivered)

    def _calling(self, event_name: str) -> SwitchableLink | None:
        for link in self.links:
            if link.event_name == event_name and link.in_request:
                return link
        return None

    def _mark_sent(self, event_ids: list[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.event_id.in_(event_ids), outbox.c.sent_at.is_(None))
                .values(sent_at=time.time())
            )


def _row(envelope: Envelope) -> OutboxRow:
    """The outbox row as the relay would read it; an HTTP sink uses its body and trace only."""
    return OutboxRow(
        id=0,
        event_id=envelope.event_id,
        event_name=envelope.event_name,
        topic="",
        partition_key="",
        body=envelope.to_json(),
        trace_id=envelope.trace_id,
    )
