"""A process started by the platform's supervisor ends when the supervisor dies
(runtime/parent_death.py): by the kernel's signal on Linux, by watching its parent elsewhere
(or when the kernel's signal cannot be had), and by force if its clean stop hangs.

Each test starts a parent process that starts the follower (parent_follower.py), then kills
the parent with SIGKILL, as a crash would."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from teacher_hiring.runtime import parent_death

pytestmark = pytest.mark.integration

FOLLOWER = Path(__file__).with_name("parent_follower.py")
PARENT = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:], env={**os.environ,
    "TEACHER_HIRING_PARENT_PID": str(os.getpid()),
    "TEACHER_HIRING_PARENT_DEATH_SIGNAL": sys.argv[1]})
print(child.pid, flush=True)
child.wait()
"""


def follower_of_a_killed_parent(
    folder: Path, *, kernel_signal: bool, poll_s: float, hard_exit_s: float, on_term: str
) -> int:
    """Start parent and follower, SIGKILL the parent; the follower's pid."""
    follower = [str(FOLLOWER), str(folder), str(poll_s), str(hard_exit_s), on_term]
    signal = "1" if kernel_signal else "0"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, signal, sys.executable, *follower], stdout=subprocess.PIPE
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    deadline = time.monotonic() + 30
    while not (folder / "ready").exists():
        assert time.monotonic() < deadline, "the follower did not start"
        time.sleep(0.05)
    parent.kill()
    parent.wait(5)
    return child


def ended_within(pid: int, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return time.monotonic() - started
        if "\nState:\tZ" in status:
            return time.monotonic() - started
        time.sleep(0.02)
    os.kill(pid, 9)
    raise AssertionError(f"{pid} still running {seconds}s after its parent died")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_the_kernel_stops_the_child_cleanly_at_once(tmp_path: Path) -> None:
    child = follower_of_a_killed_parent(
        tmp_path, kernel_signal=True, poll_s=600, hard_exit_s=600, on_term="term"
    )
    assert ended_within(child, 2.0) < 2.0  # the watcher would take ten minutes
    assert (tmp_path / "stopped").read_text() == "SIGTERM"


def test_without_the_kernel_the_child_sees_its_parent_gone_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    child = follower_of_a_killed_parent(
        tmp_path, kernel_signal=False, poll_s=0.2, hard_exit_s=600, on_term="term"
    )
    assert ended_within(child, 3.0) < 3.0
    assert (tmp_path / "stopped").read_text() == "SIGTERM"


def test_a_child_whose_clean_stop_hangs_is_ended_by_force(tmp_path: Path) -> None:
    child = follower_of_a_killed_parent(
        tmp_path, kernel_signal=False, poll_s=0.2, hard_exit_s=0.5, on_term="ignore"
    )
    assert ended_within(child, 5.0) >= 0.5
    assert not (tmp_path / "stopped").exists()


def test_the_kernel_signal_is_asked_only_for_children_of_the_main_thread() -> None:
    from_main = parent_death.child_env()
    from_thread: dict[str, str] = {}
    worker = threading.Thread(target=lambda: from_thread.update(parent_death.child_env()))
    worker.start()
    worker.join()

    assert from_main == {
        parent_death.PARENT_PID: str(os.getpid()),
        parent_death.DEATH_SIGNAL: "1",
    }
    # A thread that ends would take its children with it: they watch the process instead.
    assert from_thread[parent_death.DEATH_SIGNAL] == "0"


def test_a_process_started_otherwise_follows_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(parent_death.PARENT_PID, raising=False)
    before = threading.active_count()

    parent_death.follow_parent()

    assert threading.active_count() == before
