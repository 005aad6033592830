"""A server several test processes use at once: the PostgreSQL and Kafka of the tests.

Test processes overlap (the workers of one `pytest -n`, two engineers' sessions on one
machine), and each must find the server up, start it if nobody has, and leave it up while
anyone still uses it. Three files beside the server's data decide it:

  <base>.lock    held exclusively while a process decides: is it up, start it, stop it; so
                 two processes never both start it, and none joins while another stops it;
  <base>.users   held shared by every process that uses it, for as long as it does;
  <base>.ours    there while a test process started the server: the last user stops that
                 one, never a server somebody started by hand.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class SharedServer:
    base: Path
    is_up: Callable[[], bool]
    start: Callable[[], None]
    """Starts it and returns once it answers; raises (or fails the test) when it cannot."""
    stop: Callable[[], None]

    @contextmanager
    def used(self) -> Iterator[None]:
        """The server is up for the whole block, started by this process if nobody had."""
        users = self._path("users").open("w")
        try:
            with self._deciding():
                fcntl.flock(users, fcntl.LOCK_SH)
                if not self.is_up():
                    self.start()
                    self._path("ours").touch()
            yield
        finally:
            with self._deciding():
                users.close()  # this process no longer uses it
                self._stop_if_last()

    def _stop_if_last(self) -> None:
        if not self._path("ours").exists():
            return  # nobody started it, or the last user already stopped it
        with self._path("users").open("w") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another process still uses it: the last one stops it
            self._path("ours").unlink()
            self.stop()

    @contextmanager
    def _deciding(self) -> Iterator[IO[str]]:
        with self._path("lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield lock

    def _path(self, suffix: str) -> Path:
        return Path(f"{self.base}.{suffix}")
