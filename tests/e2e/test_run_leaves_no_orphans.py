"""`teacher-hiring run` as a user starts it: when the supervisor dies (SIGKILL: nothing of it
runs any more), its service processes and the proxy stop by themselves within seconds and
free the platform's ports; a closed terminal (SIGHUP) stops everything cleanly, as Ctrl-C does.

The distributed run uses the tests' PostgreSQL and Kafka (started for the session if nobody
had), which it finds running: it neither starts nor stops them.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from integration import kafka_broker
from integration.postgres_server import TEST_DIR, PostgresServer

pytestmark = pytest.mark.e2e

START_TIMEOUT_S = 120.0
GONE_WITHIN_S = 10.0
OFFSETS = (0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23)
"""The ports `run --base-port B` uses: the web pages' B and the services' B+1..3, their
instances' B+10.. and B+20.."""


def bindable(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port() -> int:
    for _ in range(200):
        base = random.randrange(20_000, 60_000, 100)
        if all(bindable(base + offset) for offset in OFFSETS):
            return base
    raise RuntimeError("no free block of ports")


def children_of(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def alive(pid: int) -> bool:
    """Running; a zombie (dead, waiting for a parent to reap it) is not."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Run:
    process: subprocess.Popen[bytes]
    base_port: int
    output: Path

    @property
    def service_ports(self) -> list[int]:
        return [self.base_port + offset for offset in (0, 1, 2, 3)]  # web pages and services

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        waiting = list(self.service_ports)
        while waiting:
            assert self.process.poll() is None, f"run exited: {self.output.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"not serving: {self.output.read_text()[-3000:]}"
            waiting = [port for port in waiting if not _ready(port)]
            time.sleep(0.2)


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def ignore_hangups() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as `nohup` starts a command


@contextmanager
def teacher_hiring_run(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, nohup: bool = False
) -> Iterator[Run]:
    """`teacher-hiring run` in a process of its own, serving; whatever is left is killed."""
    base_port = free_base_port()
    output = tmp_path / "run.out"
    where = ["--data-dir", str(tmp_path / "var"), "--base-port", str(base_port)]
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "teacher_hiring.cli", "run", *where, *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            preexec_fn=ignore_hangups if nohup else None,
        )
    run = Run(process, base_port, output)
    children: set[int] = set()
    try:
        run.wait_until_serving()
        children = children_of(process.pid)
        yield run
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        for child in children:
            if alive(child):
                os.kill(child, signal.SIGKILL)


def assert_gone_within(pids: set[int], ports: list[int], seconds: float) -> float:
    """How long it took every process to end and every port to be free."""
    started = time.monotonic()
    while True:
        left = {pid for pid in pids if alive(pid)}
        held = [port for port in ports if listening(port)]
        if not left and not held:
            return time.monotonic() - started
        assert time.monotonic() - started < seconds, f"still alive {left}, still held {held}"
        time.sleep(0.1)


def kill_the_supervisor_and_check(run: Run, processes: int) -> None:
    children = children_of(run.process.pid)
    assert len(children) == processes, children
    ports = [run.base_port + offset for offset in OFFSETS]
    assert any(listening(port) for port in ports)

    run.process.kill()
    run.process.wait(5)

    took = assert_gone_within(children, ports, GONE_WITHIN_S)
    print(f"{processes} processes gone and their ports free {took:.1f} s after the SIGKILL")


def test_a_killed_run_leaves_no_service_running_nor_a_port_held(tmp_path: Path) -> None:
    with teacher_hiring_run(tmp_path) as run:
        kill_the_supervisor_and_check(run, processes=4)  # the services and the web pages


@pytest.mark.kafka
@pytest.mark.postgres
def test_a_killed_distributed_run_leaves_no_instance_nor_proxy_running(
    tmp_path: Path, postgres_server: PostgresServer, kafka_bootstrap: str
) -> None:
    servers = {
        "TH_PG_PORT": str(postgres_server.port),
        "TH_PG_DIR": os.environ.get("TH_PG_DIR", TEST_DIR),
        "TH_PG_AUTH": "trust",  # the tests' cluster (tests/integration/postgres_server.py)
        "TH_KAFKA_PORT": str(kafka_broker.PORT),
        "TH_KAFKA_CONTROLLER_PORT": str(kafka_broker.CONTROLLER_PORT),
        "TH_KAFKA_DIR": str(kafka_broker.DATA_DIR),
    }
    assert kafka_bootstrap.endswith(servers["TH_KAFKA_PORT"])
    forget_the_runs_databases(postgres_server)
    with teacher_hiring_run(tmp_path, "--distributed", "--partitions", "2", env=servers) as run:
        assert "is running: using it" in run.output.read_text()
        kill_the_supervisor_and_check(run, processes=9)  # eight instances and the proxy
    assert kafka_broker.broker_answers()  # not the supervisor's to stop: it found it running


def forget_the_runs_databases(server: PostgresServer) -> None:
    """As on a first run: the test server outlives test sessions (and the code that made its
    databases), so what an earlier session's run left there is not this one's to find."""
    admin = sa.create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in ("exercises", "hiring", "bonus", "web"):
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS th_{name} WITH (FORCE)")
    finally:
        admin.dispose()


def test_a_closed_terminal_stops_the_run_cleanly(tmp_path: Path) -> None:
    with teacher_hiring_run(tmp_path) as run:
        children = children_of(run.process.pid)

        run.process.send_signal(signal.SIGHUP)

        assert run.process.wait(30) == 0
        assert_gone_within(children, run.service_ports, 1.0)
        assert run.output.read_text().rstrip().endswith("stopped.")


def test_under_nohup_a_closed_terminal_leaves_the_run_up_and_sigterm_stops_it(
    tmp_path: Path,
) -> None:
    with teacher_hiring_run(tmp_path, nohup=True) as run:
        children = children_of(run.process.pid)

        run.process.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        assert run.process.poll() is None
        assert all(_ready(port) for port in run.service_ports)

        run.process.send_signal(signal.SIGTERM)
        assert run.process.wait(30) == 0
        assert_gone_within(children, run.service_ports, 1.0)
