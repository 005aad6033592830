"""Links whose form an operator changes at run time: an event through the log, or a
synchronous HTTP call to the receiver (SPEC §4, the migrations of the second document).

Either way the row leaves the producer's outbox through the relay, so the producer's request
never waits for the receiver, and the delivery carries the event id, so the receiver's inbox
applies it once whichever path (or both, around a switch) brought it. The mode is read on each
relay pass from the runtime flags: rows not yet relayed leave by the mode in force when they do,
and what is already in the log is still consumed.
"""

from __future__ import annotations

from dataclasses import dataclass

from teacher_hiring.messaging.sinks import Sink
from teacher_hiring.runtime.flags import Flag, RuntimeFlags

EVENT = "event"


@dataclass
class SwitchableLink:
    name: str
    event_name: str
    call_mode: str  # the mode whose deliveries go to `sink`; in EVENT mode they go to the log
    sink: Sink
    flags: RuntimeFlags
    description: str
    receiver: str

    @property
    def modes(self) -> tuple[str, str]:
        return (self.call_mode, EVENT)

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

    def route(self, event_name: str) -> Sink | None:
        if event_name == self.event_name and self.mode == self.call_mode:
            return self.sink
        return None
