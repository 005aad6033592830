"""Where a service takes "now" from: the host's clock, or one a test sets.

Each service reads its business times (saves, submissions, `produced_at` of its events) from
the clock its bootstrap was given, so a test can run two services whose clocks disagree, as
two hosts' clocks do. No rule may compare one service's time with another's: the clocks of
two hosts are never assumed to agree.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]
"""Seconds since the epoch, now."""

system_clock: Clock = time.time


class ShiftedClock:
    """The host's clock moved by `offset_s` (negative: behind), which a test may change."""

    def __init__(self, offset_s: float = 0.0) -> None:
        self.offset_s = offset_s

    def __call__(self) -> float:
        return time.time() + self.offset_s


def rfc3339(epoch_s: float) -> str:
    """How a time leaves a service: RFC 3339 in UTC with microseconds, ending in Z."""
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
