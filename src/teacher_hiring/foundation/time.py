"""Where a service takes "now" from, and the one text form of a time: RFC 3339.

Each service reads its business times (saves, submissions, `produced_at` of its events) from
the clock its bootstrap was given, so a test can run two services whose clocks disagree, as
two hosts' clocks do. No rule may compare one service's time with another's: the clocks of
two hosts are never assumed to agree.

Every time leaves a service as RFC 3339 in UTC with microseconds, ending in Z
("2025-03-14T09:26:53.589793Z"): exact, and its text order is its time order, so services
compare such times as text on SQLite and on PostgreSQL (in the "C" collation) alike.
"""

from __future__ import annotations

import math
import re
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


def rfc3339(moment: float | datetime) -> str:
    """A moment (epoch seconds, or a datetime; a naive one is local time) as RFC 3339 in UTC
    with microseconds, ending in Z."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC)
    elif moment >= 0:
        return _epoch_rfc3339(moment)
    else:
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


_second: tuple[float, str] = (-1.0, "")
"""The last whole second written and its text up to the seconds: most calls share it."""


def _epoch_rfc3339(seconds: float) -> str:
    """`rfc3339` of non-negative epoch seconds, at a fifth of datetime's cost: the text up to
    the seconds is kept from the previous call of the same second. Microseconds are rounded
    as datetime.fromtimestamp rounds them (half to even, carrying into the next second)."""
    global _second
    fraction, whole = math.modf(seconds)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        micros -= 1_000_000
        whole += 1.0
    last, prefix = _second
    if whole != last:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second = (whole, prefix)
    return f"{prefix}.{micros:06d}Z"


def now_rfc3339(clock: Clock = system_clock) -> str:
    """Now, by `clock`, as `rfc3339` writes it."""
    return rfc3339(clock())


def parse_rfc3339(text: str) -> datetime:
    """The moment an RFC 3339 timestamp (or an ISO 8601 date or date-time) names.

    Aware when the text has an offset (Z or z included), naive when it has none: the caller
    decides what a time without an offset means. ValueError for anything else.
    """
    if not isinstance(text, str):
        raise ValueError(f"not a timestamp: {text!r}")
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def epoch_seconds(text: str) -> float:
    """Epoch seconds of an RFC 3339 time; a time without an offset is taken as UTC."""
    moment = parse_rfc3339(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


_WRITTEN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", re.ASCII)


def is_rfc3339_utc(text: str) -> bool:
    """Whether the text is a moment exactly as `rfc3339` writes it (UTC, microseconds, Z):
    such a text needs no parsing and writing again to be normalised."""
    if not isinstance(text, str) or _WRITTEN.fullmatch(text) is None:
        return False
    try:
        datetime.fromisoformat(text[:-1])  # the digits name a real moment (no 25 h, no 31 Feb)
    except ValueError:
        return False
    return True
