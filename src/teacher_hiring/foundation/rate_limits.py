"""How often something may happen: sliding-window limits per key, kept in one process.

A `Limit` allows `count` events in any `window_s` seconds (a count of 0: no limit). A
`Limiter` records events under several keys at once (a client's address and "all") and
refuses one when any of its keys is at its limit, saying which and for how long, and then
records nothing, so a refused request does not push its own wait further out.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_KEYS = 100_000
"""Keys kept at most; past it, the keys with no event inside their window are dropped."""


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    window_s: float

    @property
    def on(self) -> bool:
        return self.count > 0


@dataclass(frozen=True, slots=True)
class Refusal:
    key: str
    limit: Limit
    wait_s: float

    @property
    def retry_after_s(self) -> int:
        """Whole seconds for a Retry-After header: at least 1."""
        return max(1, math.ceil(self.wait_s))


class Limiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._windows: dict[str, float] = {}
        self._lock = threading.Lock()

    def take(self, keys: Sequence[tuple[str, Limit]]) -> Refusal | None:
        """Record one event under each key, or refuse it (the longest wait) recording none."""
        now = self._clock()
        with self._lock:
            refusals = []
            for key, limit in keys:
                if not limit.on:
                    continue
                events = self._events.get(key)
                if events is None:
                    continue
                while events and events[0] <= now - limit.window_s:
                    events.popleft()
                if len(events) >= limit.count:
                    wait = events[len(events) - limit.count] + limit.window_s - now
                    refusals.append(Refusal(key, limit, wait))
            if refusals:
                return max(refusals, key=lambda r: r.wait_s)
            if len(self._events) >= MAX_KEYS:
                self._forget_idle(now)
            for key, limit in keys:
                if limit.on:
                    self._events.setdefault(key, deque()).append(now)
                    self._windows[key] = limit.window_s
            return None

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, e in self._events.items() if not e or e[-1] <= now - self._windows[k]]:
            del self._events[key]
            del self._windows[key]


def counted_address(host: str | None) -> str | None:
    """The client's address as a limit counts it, or None when it is not counted: not an IP
    address, or the machine's own. Behind the platform's TCP proxy (the distributed run), for
    the web pages' calls to the services, or with every browser on one machine (`make run`),
    every client is 127.0.0.1: counting it would let one client's requests stop everyone."""
    if not host:
        return None
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        return None
    return None if loopback else host
