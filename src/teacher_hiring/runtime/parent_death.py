"""A child process of the platform ends when the process that started it is gone.

`teacher-hiring run` supervises the services and the proxy. If the supervisor dies without
stopping them (SIGKILL, a crash), they must not live on holding the platform's ports. The
parent passes its process id in the child's environment (`child_env`); the child calls
`follow_parent()` at start and, once its parent is gone, sends itself SIGTERM, the signal of
a clean stop, and exits hard if that stop has not ended it within `HARD_EXIT_AFTER_S`.

Two mechanisms, because neither is enough alone:

- on Linux, `prctl(PR_SET_PDEATHSIG, SIGTERM)`: the kernel signals the child at once when its
  parent dies. It fires when the parent *thread* that forked the child ends, not the parent
  process, so the parent asks for it only when it forks from its main thread;
- everywhere, a thread that checks every `POLL_S` that its parent is still its parent
  (`os.getppid()` changes when an orphan is adopted by init or a subreaper).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PARENT_PID = "TEACHER_HIRING_PARENT_PID"
DEATH_SIGNAL = "TEACHER_HIRING_PARENT_DEATH_SIGNAL"
POLL_S = 0.5
HARD_EXIT_AFTER_S = 15.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def child_env() -> dict[str, str]:
    """What a child needs to follow this process: its id, and whether the kernel may signal
    the child when this thread ends (only the main thread lives as long as the process)."""
    main = threading.current_thread() is threading.main_thread()
    return {PARENT_PID: str(os.getpid()), DEATH_SIGNAL: "1" if main else "0"}


def follow_parent() -> None:
    """End this process (SIGTERM to itself) once the parent named in the environment is gone.

    Does nothing in a process started otherwise (a service started by hand)."""
    expected = os.environ.get(PARENT_PID)
    if not expected:
        return
    parent = int(expected)
    if os.environ.get(DEATH_SIGNAL) == "1":
        _ask_kernel_for_sigterm()
    watcher = threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True)
    watcher.start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:  # also right after start: the parent may be gone already
        time.sleep(POLL_S)
    _stop_self()


def _stop_self() -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(HARD_EXIT_AFTER_S)
    os._exit(1)  # the clean stop hung: do not keep the ports


def _ask_kernel_for_sigterm() -> None:
    if not sys.platform.startswith("linux"):
        return
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    libc = ctypes.CDLL(libc_name, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
