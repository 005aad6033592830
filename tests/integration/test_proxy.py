"""The proxy that gives a service one address in front of its instances (runtime/proxy.py),
with real sockets: instances are small HTTP servers in processes of their own, killed with
SIGKILL as a crashed service would be."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from teacher_hiring.foundation.ports import free_port
from teacher_hiring.runtime.proxy import Address, Proxy, Route

pytestmark = pytest.mark.integration

INSTANCE = Path(__file__).with_name("named_instance.py")
HOST = "127.0.0.1"


class Instance:
    def __init__(self, name: str, port: int | None = None) -> None:
        self.name, self.port = name, port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> Address:
        return HOST, self.port

    def start(self) -> Instance:
        self.process = subprocess.Popen(
            [sys.executable, str(INSTANCE), self.name, str(self.port)], stdout=subprocess.PIPE
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline() == b"listening\n"
        return self

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def instances() -> Iterator[list[Instance]]:
    made = [Instance("a"), Instance("b")]
    yield made
    for instance in made:
        instance.kill()


@contextmanager
def proxying(upstreams: list[Address], **options: float) -> Iterator[str]:
    """The proxy on a free port, in an event loop of its own thread; yields its base URL."""
    loop = asyncio.new_event_loop()
    proxy = Proxy([Route((HOST, 0), tuple(upstreams))], **options)
    thread = threading.Thread(target=loop.run_forever, name="proxy", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(proxy.start(), loop).result(5)
    try:
        (host, port), *_ = proxy.addresses()
        yield f"http://{host}:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(proxy.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def each_on_a_new_connection(url: str, requests: int) -> list[str]:
    return [httpx.get(url, timeout=5).text for _ in range(requests)]


def test_connections_go_to_the_instances_in_turn(instances: list[Instance]) -> None:
    for instance in instances:
        instance.start()
    with proxying([i.address for i in instances]) as url:
        assert each_on_a_new_connection(url, 4) == ["a", "b", "a", "b"]


def test_requests_on_a_kept_alive_connection_stay_with_its_instance(
    instances: list[Instance],
) -> None:
    for instance in instances:
        instance.start()
    with proxying([i.address for i in instances]) as url, httpx.Client(timeout=5) as client:
        answers = {client.get(url).text for _ in range(5)}
    assert len(answers) == 1


def test_an_instance_that_refuses_connections_costs_no_request(
    instances: list[Instance],
) -> None:
    alive, never_started = instances
    alive.start()
    with proxying([i.address for i in instances]) as url:
        assert each_on_a_new_connection(url, 10) == ["a"] * 10
        assert never_started.process is None


def test_an_instance_killed_between_requests_costs_no_later_request(
    instances: list[Instance],
) -> None:
    for instance in instances:
        instance.start()
    with proxying([i.address for i in instances]) as url, httpx.Client(timeout=5) as client:
        pinned = client.get(url).text  # this client's kept-alive connection is on `pinned`
        victim = next(i for i in instances if i.name == pinned)
        victim.kill()
        time.sleep(0.2)  # the proxy closes the connection whose instance died
        survivor = next(i for i in instances if i is not victim)
        answers = [client.get(url).text for _ in range(5)]
        answers += each_on_a_new_connection(url, 5)
    assert answers == [survivor.name] * 10


def test_an_instance_killed_under_load_fails_only_requests_it_had(
    instances: list[Instance],
) -> None:
    """Clients keep sending on new connections while one instance dies: at most the requests
    it held fail, every one sent after it died is answered."""
    for instance in instances:
        instance.start()
    stop = threading.Event()
    killed_at: list[float] = []
    failures: list[float] = []
    answered: list[tuple[float, str]] = []

    def client_loop() -> None:
        while not stop.is_set():
            sent = time.monotonic()
            try:
                answered.append((sent, httpx.get(url, timeout=5).text))
            except httpx.TransportError:
                failures.append(sent)

    with proxying([i.address for i in instances]) as url, ThreadPoolExecutor(4) as pool:
        loops = [pool.submit(client_loop) for _ in range(4)]
        time.sleep(0.5)
        killed_at.append(time.monotonic())
        instances[1].kill()
        time.sleep(1.0)
        stop.set()
        for loop in loops:
            loop.result()

    after = [name for sent, name in answered if sent > killed_at[0] + 0.05]
    assert after and set(after) == {"a"}
    assert all(sent <= killed_at[0] + 0.05 for sent in failures), failures


def test_a_connection_waits_for_an_instance_that_is_starting() -> None:
    late = Instance("late")
    with proxying([late.address], wait_s=5.0) as url, ThreadPoolExecutor(1) as pool:
        answer = pool.submit(httpx.get, url, timeout=10)
        time.sleep(0.5)
        late.start()
        try:
            assert answer.result(10).text == "late"
        finally:
            late.kill()


def test_with_no_instance_a_connection_is_closed_after_the_wait() -> None:
    with proxying([(HOST, free_port())], wait_s=0.3) as url:
        started = time.monotonic()
        with pytest.raises(httpx.TransportError):
            httpx.get(url, timeout=5)
        assert 0.3 <= time.monotonic() - started < 3


def test_a_client_that_half_closes_still_gets_the_whole_answer(
    instances: list[Instance],
) -> None:
    alive = instances[0].start()
    with proxying([alive.address]) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection((HOST, port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
    assert received.startswith(b"HTTP/1.") and received.endswith(b"\r\n\r\na")


def test_a_large_body_passes_both_ways_unchanged(instances: list[Instance]) -> None:
    alive = instances[0].start()
    body = bytes(range(256)) * 40_000  # 10 MB
    with proxying([alive.address]) as url:
        answer = httpx.post(url, content=body, timeout=30)
    assert answer.content == body
