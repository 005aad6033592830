"""The test servers' sharing (tests/shared_server.py): started once by whoever needs it first,
stopped by the last user, and never when somebody else had started it. Real files and locks;
each `used()` opens its own, as another process would."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from shared_server import SharedServer


class Server:
    def __init__(self, up: bool = False, start_s: float = 0.0, fails: bool = False) -> None:
        self.up, self.start_s, self.fails = up, start_s, fails
        self.starts = self.stops = 0

    def start(self) -> None:
        time.sleep(self.start_s)
        if self.fails:
            raise RuntimeError("cannot start")
        self.starts += 1
        self.up = True

    def stop(self) -> None:
        self.stops += 1
        self.up = False

    def shared(self, base: Path) -> SharedServer:
        return SharedServer(base, is_up=lambda: self.up, start=self.start, stop=self.stop)


def test_the_first_user_starts_it_and_the_last_one_stops_it(tmp_path: Path) -> None:
    server = Server()
    shared = server.shared(tmp_path / "db")
    with ExitStack() as first:
        first.enter_context(shared.used())
        with shared.used():
            assert (server.starts, server.up) == (1, True)
        assert server.up and server.stops == 0  # the first one still uses it
    assert (server.starts, server.stops, server.up) == (1, 1, False)
    with shared.used():  # a later session starts it again
        assert server.starts == 2
    assert server.stops == 2


def test_a_server_somebody_else_started_is_left_running(tmp_path: Path) -> None:
    server = Server(up=True)
    with server.shared(tmp_path / "db").used():
        pass
    assert (server.starts, server.stops, server.up) == (0, 0, True)


def test_a_failed_start_leaves_nothing_to_stop_and_nobody_waiting(tmp_path: Path) -> None:
    server = Server(fails=True)
    shared = server.shared(tmp_path / "db")
    with pytest.raises(RuntimeError, match="cannot start"), shared.used():
        pass
    assert server.stops == 0
    server.fails = False
    with shared.used():  # the locks were let go
        assert server.starts == 1


def test_users_arriving_together_start_it_once(tmp_path: Path) -> None:
    server = Server(start_s=0.2)
    shared = server.shared(tmp_path / "db")
    inside = threading.Barrier(4)
    seen: list[bool] = []

    def use() -> None:
        with shared.used():
            seen.append(server.up)
            inside.wait(5)  # all four hold it at once

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [True] * 4
    assert (server.starts, server.stops) == (1, 1)
