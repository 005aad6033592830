"""Links whose form an operator changes at run time: an event through the log, or a
synchronous HTTP call to the receiver (SPEC §4, the migrations of the second document).

Either way the event is committed to the producer's outbox with the state change, and the
delivery carries the event id, so the receiver's inbox applies it once whichever path (or
both, around a switch) brought it. The mode is read on every use from the runtime flags: rows
not yet delivered leave by the mode in force when they do, and what is already in the log is
still consumed.

Two kinds of call mode exist. A relayed call (`request_window_s` unset) is made by the
producer's relay, so the producer's request never waits for the receiver. A call in the
request (`request_window_s` set) is the old wiring: the request that staged the event calls
the receiver before it answers and fails when the receiver does (runtime.link_calls); the relay
leaves such rows to their request for `request_window_s` and then delivers what a failed
request left behind, so nothing is lost.

A read link (`SwitchableRead`) carries no event: it says where a service reads data from on
a request, its own replica or the owner over HTTP (COMM-020).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import httpx

from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.sinks import HttpPushSink, OutboxRow, Sink
from teacher_hiring.runtime.flags import Flag, RuntimeFlags

EVENT = "event"


@dataclass
class _Switch:
    """A link's name, its flag in the owner's runtime flags, and the other end."""

    name: str
    flags: RuntimeFlags
    description: str
    receiver: str

    @property
    def modes(self) -> tuple[str, ...]:
        raise NotImplementedError

    @property
    def flag_name(self) -> str:
        return f"link.{self.name}"

    @property
    def mode(self) -> str:
        return self.flags.get(self.flag_name)

    def state(self) -> Flag:
        return self.flags.flag(self.flag_name)

    def switch(self, mode: str) -> Flag:
        if mode not in self.modes:
            raise ValueError(f"mode: {mode!r} is not one of {', '.join(self.modes)}")
        return self.flags.set(self.flag_name, mode)


@dataclass
class SwitchableLink(_Switch):
    event_name: str
    call_mode: str  # the mode whose deliveries go to `sink`; in EVENT mode they go to the log
    sink: Sink
    request_window_s: float | None = None  # set: in call mode the staging request calls
    more_events: tuple[str, ...] = ()  # relayed by the same sink in the same mode, in order

    @property
    def modes(self) -> tuple[str, ...]:
        return (self.call_mode, EVENT)

    @property
    def event_names(self) -> tuple[str, ...]:
        """Every event whose path the mode decides: the link's own, then `more_events`."""
        return (self.event_name, *self.more_events)

    @property
    def calls(self) -> bool:
        return self.mode == self.call_mode

    @property
    def in_request(self) -> bool:
        """The request that stages this link's event delivers it now (the old wiring)."""
        return self.request_window_s is not None and self.calls

    def route(self, event_name: str) -> Sink | None:
        if event_name in self.event_names and self.calls:
            return self.sink
        return None


@dataclass
class SwitchableRead(_Switch):
    """Where a request reads another service's data: `local_mode` from this service's replica,
    `call_mode` from the owner over HTTP, inside the request."""

    call_mode: str = "sync"
    local_mode: str = "replica"

    @property
    def modes(self) -> tuple[str, ...]:
        return (self.call_mode, self.local_mode)

    @property
    def calls(self) -> bool:
        return self.mode == self.call_mode


Switch = SwitchableLink | SwitchableRead


def router_of(links: Sequence[SwitchableLink]) -> Callable[[str], Sink | None]:
    """The relay's choice of sink for an event: the first link that calls for it, else the log."""

    def route(event_name: str) -> Sink | None:
        for link in links:
            sink = link.route(event_name)
            if sink is not None:
                return sink
        return None

    return route


def left_to_requests(links: Sequence[SwitchableLink]) -> Callable[[], dict[str, float]]:
    """For the relay: the events that requests deliver themselves now, each with how long
    (seconds since it was staged) the relay leaves a row to its request."""

    def deferred() -> dict[str, float]:
        return {
            link.event_name: link.request_window_s
            for link in links
            if link.request_window_s is not None and link.calls
        }

    return deferred


def request_window(timeout_s: float) -> float:
    """How long the relay leaves a row to the request that staged it: the call's timeout and
    a margin for the request to mark it sent."""
    return timeout_s + 2.0


MONEY_CALL_PATH = "/api/v0/money"
"""Bonus's endpoint that books a money event brought by a call (COMM-040, 050, 080)."""


@dataclass(frozen=True)
class HttpCall:
    """A link whose `call_mode` POSTs its events to `path` on the receiver, built when the
    service starts like every link: (flags, receiver_url, timeout_s, auth, registry).

    By default the old wiring: in `sync` mode the request that staged the event POSTs it
    before it answers, and the relay delivers what a failed request left behind. With
    `in_request` false the relay makes the call, so the request never waits for the receiver.
    """

    name: str
    event_name: str
    description: str
    receiver: str
    path: str
    body: Callable[[OutboxRow], bytes] | None = None
    call_mode: str = "sync"
    in_request: bool = True
    more_events: tuple[str, ...] = ()

    def __call__(
        self,
        flags: RuntimeFlags,
        receiver_url: str,
        timeout_s: float,
        auth: httpx.Auth | None = None,
        registry: SchemaRegistry | None = None,
    ) -> SwitchableLink:
        return SwitchableLink(
            name=self.name,
            event_name=self.event_name,
            call_mode=self.call_mode,
            more_events=self.more_events,
            sink=HttpPushSink(
                receiver_url.rstrip("/") + self.path,
                timeout_s=timeout_s,
                registry=registry,
                auth=auth,
                body=self.body,
                name=f"http-push:{self.name}",
            ),
            flags=flags,
            description=self.description,
            receiver=self.receiver,
            request_window_s=request_window(timeout_s) if self.in_request else None,
        )


@dataclass(frozen=True)
class MoneyCall(HttpCall):
    """A link for one money event: in `sync` mode the request that issued it POSTs it to
    bonus's /api/v0/money before it answers, as the old services booked money (COMM-040, 050,
    080)."""

    RECEIVER: ClassVar[str] = "bonus"

    receiver: str = RECEIVER
    path: str = MONEY_CALL_PATH
