"""Open-loop load: requests sent on a fixed schedule whatever the answers do.

Latency is measured from the moment a request was due, not from when it left, so a server
that falls behind shows its queue in the figures instead of slowing the generator down
(closed-loop generators hide it: coordinated omission). aiohttp, not httpx: the generator
shares the 2 cores with the services and must cost little per request.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

if TYPE_CHECKING:
    import aiohttp

T = TypeVar("T")

CONNECTIONS = 64
"""Kept-alive connections to the server at most; a request due while all are busy waits for
one, its wait counted in its latency. Without a bound, a server that falls behind is sent
hundreds of new connections at once, and the handshakes that overflow its accept queue are
retried by TCP after 1 s, 3 s, 7 s: latency of the kernel, not of the service."""


@dataclass(frozen=True)
class Request:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Outcome:
    """One request: when it was due (seconds from the start), how long it took, its status
    (0 when no answer came: refused connection, timeout)."""

    due_s: float
    latency_ms: float
    status: int


@dataclass
class PhaseResult:
    name: str
    rate: float
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def sent(self) -> int:
        return len(self.outcomes)

    @property
    def errors(self) -> int:
        """Requests that failed: no answer, or a 5xx (the service could not do its job)."""
        return sum(1 for o in self.outcomes if o.status == 0 or o.status >= 500)

    @property
    def error_rate(self) -> float:
        return self.errors / self.sent if self.sent else float("nan")

    @property
    def latencies_ms(self) -> list[float]:
        """Every request's latency, answered or failed: a failure after a 1 s timeout is 1 s
        of a candidate's time too."""
        return [o.latency_ms for o in self.outcomes]

    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        return dict(sorted(counts.items()))

    def pct(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def line(self) -> str:
        return (
            f"{self.name:<34} sent {self.sent:>6}  errors {self.errors:>6}"
            f" ({self.error_rate:6.1%})  p50 {self.pct(50):7.2f}  p95 {self.pct(95):7.2f}"
            f"  p99 {self.pct(99):7.2f} ms  {self.statuses()}"
        )


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def _open_loop(
    base_url: str,
    work: Sequence[Request],
    rate: float,
    name: str,
    at: Sequence[tuple[float, Callable[[], None]]],
) -> PhaseResult:
    import aiohttp  # the bench extra: the rest of this module is plain data

    result = PhaseResult(name, rate)
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as client:
        # Bodies are encoded and connections opened before the clock starts: neither is measured.
        encoded = [
            (orjson.dumps(request.body), {**request.headers, "Content-Type": "application/json"})
            for request in work
        ]
        await asyncio.gather(*(_warm(client) for _ in range(CONNECTIONS)))
        with collector_paused():
            await _on_schedule(client, work, encoded, result, at)
    result.outcomes.sort(key=lambda o: o.due_s)
    return result


async def _warm(client: aiohttp.ClientSession) -> None:
    async with client.get("/health") as response:
        await response.read()


async def _on_schedule(
    client: aiohttp.ClientSession,
    work: Sequence[Request],
    encoded: Sequence[tuple[bytes, dict[str, str]]],
    result: PhaseResult,
    at: Sequence[tuple[float, Callable[[], None]]],
) -> None:
    """Each request sent at its due time (one every 1/rate s from now), whatever the answers
    do; its latency counted from that due time."""

    interval = 1.0 / result.rate
    loop = asyncio.get_running_loop()
    started = time.perf_counter()

    async def one(due: float, path: str, body: bytes, headers: dict[str, str]) -> None:
        await timed_post(client, result, started, due, path, body, headers)

    # Events of the phase (stop a service, start it again) run in a thread at their moment,
    # so that a slow kill or start never delays the schedule.
    events = [
        asyncio.ensure_future(_later(loop, started + offset, action)) for offset, action in at
    ]
    tasks = []
    for i, request in enumerate(work):
        due = started + i * interval
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, request.path, *encoded[i])))
    await asyncio.gather(*tasks, *events)
    result.seconds = time.perf_counter() - started


@contextmanager
def collector_paused() -> Iterator[None]:
    """The generator's own pauses would be counted as the server's latency: a full collection
    over the bench's heap (every request of the run, prepared up front) stops it for 50 ms.
    Frozen, that heap is left out of the collections while it sends: they look at what the
    phase itself allocated."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def _later(loop: asyncio.AbstractEventLoop, when: float, action: Callable[[], None]) -> None:
    delay = when - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)
    await loop.run_in_executor(None, action)


def open_loop(
    base_url: str,
    work: Sequence[Request],
    rate: float,
    name: str,
    at: Sequence[tuple[float, Callable[[], None]]] = (),
) -> PhaseResult:
    """Send `work` at `rate` requests/s to `base_url`; `at` = (seconds from start, action)."""
    return _run(_open_loop(base_url, work, rate, name, at))


async def _concurrently(
    base_url: str, requests: Sequence[Request], concurrency: int
) -> list[dict[str, Any]]:
    import aiohttp

    answers: list[dict[str, Any]] = [{} for _ in requests]
    queue = list(enumerate(requests))
    async with aiohttp.ClientSession(base_url, timeout=aiohttp.ClientTimeout(total=60)) as client:

        async def worker() -> None:
            while queue:
                i, request = queue.pop()
                async with client.post(
                    request.path, json=request.body, headers=request.headers
                ) as response:
                    if response.status >= 300:
                        text = await response.text()
                        raise RuntimeError(f"POST {request.path}: {response.status} {text[:300]}")
                    answers[i] = await response.json()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return answers


def post_all(
    base_url: str, requests: Sequence[Request], concurrency: int = 8
) -> list[dict[str, Any]]:
    """Set-up requests (not measured), a few at a time; raises on any non-2xx answer."""
    return _run(_concurrently(base_url, requests, concurrency))


def _run(main: Coroutine[Any, Any, T]) -> T:
    """On uvloop (uvicorn's loop, installed with it): the generator's own cost per request is
    CPU taken from the services it measures."""
    import uvloop

    return uvloop.run(main)


async def timed_post(
    client: Any,
    result: PhaseResult,
    started: float,
    due: float,
    path: str,
    body: bytes,
    headers: dict[str, str],
    **options: Any,
) -> None:
    """POST once on an aiohttp session and count its outcome, timed from when it was due (a
    failure to get an answer is status 0)."""
    import aiohttp

    status = 0
    try:
        async with client.post(path, data=body, headers=headers, **options) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError, OSError):
        status = 0
    latency_ms = (time.perf_counter() - due) * 1000
    result.outcomes.append(Outcome(due - started, latency_ms, status))
