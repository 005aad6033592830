"""One address per service in front of its instances: a small TCP proxy.

Each route listens on one address and hands every connection it accepts to one of its
upstream addresses, round-robin, for the connection's whole life. It works at the TCP level,
not HTTP: nothing is parsed or buffered, keep-alive connections stay kept alive, and it serves
any HTTP process (the services, a web process) alike.

An instance that refuses a connection (killed, not yet restarted) is skipped for
`retry_after_s` and the connection goes to the next one, so a dead instance costs no request
that had not reached it. A request that had reached it fails with it, as behind any proxy: the
proxy cannot know whether the instance acted on it, so it never replays bytes; the client sends
it again (with the same Idempotency-Key) and the next connection goes to a live instance. When
no instance accepts, the proxy keeps trying for `wait_s` (a restart takes seconds) before it
closes the client's connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import structlog
import uvloop

log = structlog.get_logger(__name__)

Address = tuple[str, int]
BUFFER_BYTES = 64 * 1024
RETRY_PAUSE_S = 0.1


def parse_address(text: str) -> Address:
    """`host:port` (an IPv6 host in brackets: `[::1]:8702`)."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{text!r}: expected host:port")
    return host.strip("[]"), int(port)


def format_address(address: Address) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class Route:
    """Connections to `listen` go to one of `upstreams`."""

    listen: Address
    upstreams: tuple[Address, ...]

    def __post_init__(self) -> None:
        if not self.upstreams:
            raise ValueError(f"{format_address(self.listen)}: no upstream address")

    @classmethod
    def parse(cls, text: str) -> Route:
        """`LISTEN=UPSTREAM[,UPSTREAM...]`, e.g. `127.0.0.1:8702=127.0.0.1:8712,127.0.0.1:8722`."""
        listen, sep, upstreams = text.partition("=")
        if not sep:
            raise ValueError(f"{text!r}: expected LISTEN=UPSTREAM[,UPSTREAM...]")
        return cls(
            parse_address(listen),
            tuple(parse_address(u) for u in upstreams.split(",") if u.strip()),
        )

    def __str__(self) -> str:
        upstreams = ",".join(format_address(u) for u in self.upstreams)
        return f"{format_address(self.listen)}={upstreams}"


class Upstreams:
    """Round-robin over a route's upstreams; one that refused lately is tried only after
    those that did not (better than refusing the client outright)."""

    def __init__(
        self,
        addresses: Sequence[Address],
        retry_after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.addresses = list(addresses)
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._turn = itertools.count()
        self._down_until: dict[Address, float] = {}

    def in_turn(self) -> list[Address]:
        """This connection's order of trying: the next in turn first, those down last."""
        start = next(self._turn) % len(self.addresses)
        rotated = self.addresses[start:] + self.addresses[:start]
        now = self._clock()
        up = [a for a in rotated if self._down_until.get(a, 0.0) <= now]
        return up + [a for a in rotated if a not in up]

    def refused(self, address: Address) -> None:
        if address not in self._down_until:
            log.warning("proxy.upstream_down", upstream=format_address(address))
        self._down_until[address] = self._clock() + self.retry_after_s

    def accepted(self, address: Address) -> None:
        if self._down_until.pop(address, None) is not None:
            log.info("proxy.upstream_up", upstream=format_address(address))


class Proxy:
    """Listens on every route's address; `start()` binds, `close()` ends every connection."""

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        connect_timeout_s: float = 1.0,
        wait_s: float = 5.0,
        retry_after_s: float = 1.0,
    ) -> None:
        self.routes = list(routes)
        self.connect_timeout_s = connect_timeout_s
        self.wait_s = wait_s
        self.retry_after_s = retry_after_s
        self._servers: list[asyncio.Server] = []
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        for route in self.routes:
            upstreams = Upstreams(route.upstreams, self.retry_after_s)
            host, port = route.listen
            server = await asyncio.start_server(
                partial(self._serve, upstreams), host, port, reuse_address=True
            )
            self._servers.append(server)
            log.info("proxy.listening", route=str(route))

    def addresses(self) -> list[Address]:
        """Where each route listens, in order (the port chosen if a route asked for 0)."""
        bound = []
        for server in self._servers:
            host, port = server.sockets[0].getsockname()[:2]
            bound.append((str(host), int(port)))
        return bound

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    async def _serve(
        self,
        upstreams: Upstreams,
        client_in: asyncio.StreamReader,
        client_out: asyncio.StreamWriter,
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            upstream = await self._connect(upstreams)
            if upstream is not None:
                upstream_in, upstream_out = upstream
                try:
                    await _splice(client_in, client_out, upstream_in, upstream_out)
                finally:
                    await _close(upstream_out)
        except (OSError, asyncio.IncompleteReadError):
            pass  # either side went away: the other is closed below
        except asyncio.CancelledError:
            pass  # the proxy is closing; this task is its own top level, nothing awaits it
        finally:
            await _close(client_out)
            self._connections.discard(task)

    async def _connect(
        self, upstreams: Upstreams
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        deadline = time.monotonic() + self.wait_s
        while True:
            for address in upstreams.in_turn():
                try:
                    async with asyncio.timeout(self.connect_timeout_s):
                        streams = await asyncio.open_connection(*address)
                except (OSError, TimeoutError):
                    upstreams.refused(address)
                    continue
                upstreams.accepted(address)
                return streams
            if time.monotonic() >= deadline:
                log.warning("proxy.no_upstream", waited_s=self.wait_s)
                return None
            await asyncio.sleep(RETRY_PAUSE_S)


async def _splice(
    client_in: asyncio.StreamReader,
    client_out: asyncio.StreamWriter,
    upstream_in: asyncio.StreamReader,
    upstream_out: asyncio.StreamWriter,
) -> None:
    """Copy both ways until the upstream's side ends (its EOF or an error) or the client's
    side fails; a client that only half-closes still gets the rest of the answer."""
    answers = asyncio.create_task(_copy(upstream_in, client_out))
    requests = asyncio.create_task(_copy(client_in, upstream_out))
    pending: set[asyncio.Task[None]] = {answers, requests}
    try:
        while answers in pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if requests in done and requests.exception() is not None:
                break
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(answers, requests, return_exceptions=True)


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Until EOF, then pass the EOF on."""
    while data := await source.read(BUFFER_BYTES):
        sink.write(data)
        await sink.drain()
    if sink.can_write_eof():
        sink.write_eof()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


def run(routes: Sequence[Route], **options: float) -> None:
    """Serve until SIGTERM, SIGINT or SIGHUP: the process `teacher-hiring proxy` runs."""

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(signum, stop.set)
        proxy = Proxy(routes, **options)
        await proxy.start()
        try:
            await stop.wait()
        finally:
            await proxy.close()

    uvloop.run(serve())
