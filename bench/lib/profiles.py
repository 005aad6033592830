"""Where a process spends its time: py-spy on a running service for one stage, or cProfile in
this process, summarised as the functions with the most own and inclusive time."""

from __future__ import annotations

import cProfile
import pstats
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Profile:
    """py-spy on one process for one stage: all threads' wall time (--idle), and GIL holders."""

    label: str
    pid: int
    thread: str  # the worker thread whose wall time is summarised
    directory: Path
    _spies: list[tuple[subprocess.Popen[bytes], Path]] = field(default_factory=list)

    def start(self) -> None:
        spy = py_spy()
        for kind, extra in (("wall", ["--idle"]), ("gil", ["--gil"])):
            out = self.directory / f"{self.label}-{kind}.txt"
            command = [spy, "record", "--pid", str(self.pid), "--rate", "200", "--format", "raw"]
            command += ["--threads", "--function", "--nonblocking", "-o", str(out), *extra]
            popen = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
            )
            self._spies.append((popen, out))
        time.sleep(0.3)  # attached before the clock starts
        for popen, _ in self._spies:
            if popen.poll() is not None:
                error = popen.stderr.read().decode() if popen.stderr else ""
                raise RuntimeError(f"py-spy could not attach to {self.label}: {error.strip()}")

    def stop(self) -> None:
        for popen, _ in self._spies:
            popen.send_signal(signal.SIGINT)
        for popen, _ in self._spies:
            popen.wait(30)

    def report(self, top: int) -> list[str]:
        wall, gil = (parse_collapsed(out) for _, out in self._spies)
        lines = [f"profile of {self.label} (pid {self.pid}); raw stacks in {self.directory}"]
        mine = [(stack, n) for thread, stack, n in wall if thread == self.thread]
        total = sum(n for _, n in mine)
        if total:
            lines.append(f"  thread {self.thread}, wall time ({total} samples, waiting included):")
            lines += _top_table(mine, total, top)
        gil_total = sum(n for _, _, n in gil)
        if gil_total:
            per_thread = Counter[str]()
            for thread, _, n in gil:
                per_thread[thread] += n
            shares = ", ".join(f"{t} {n / gil_total:.0%}" for t, n in per_thread.most_common(5))
            lines.append(f"  holding the GIL, all threads ({gil_total} samples): {shares}")
            lines += _top_table([(stack, n) for _, stack, n in gil], gil_total, top)
        return lines


def py_spy() -> str:
    return shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"


def py_spy_problem(pid: int) -> str | None:
    """Why py-spy cannot sample the process (no binary, no ptrace permission), or None."""
    try:
        done = subprocess.run(
            [py_spy(), "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode == 0:
        return None
    return (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[0]


def cprofile_report(title: str, profile: cProfile.Profile, top: int) -> list[str]:
    """The functions with the most own time and the most time with callees."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    rows = [
        (f"{func} ({_short_path(path)}:{line})", tt, ct)
        for (path, line, func), (_cc, _nc, tt, ct, _callers) in stats.items()
    ]
    total = max(ct for _, _, ct in rows) or 1.0
    lines = [title, "    own time:"]
    lines += [
        f"      {tt / total:6.1%}  {name}"
        for name, tt, _ in sorted(rows, key=lambda r: -r[1])[:top]
    ]
    lines.append("    total time (with callees):")
    lines += [
        f"      {ct / total:6.1%}  {name}"
        for name, _, ct in sorted(rows, key=lambda r: -r[2])[:top]
    ]
    return lines


def _short_path(path: str) -> str:
    """Inside the package or library it belongs to: teacher_hiring/..., psycopg/..., json/..."""
    for marker in ("site-packages/", "src/", "/lib/python3"):
        path = path.split(marker, 1)[-1]
    if path.startswith(".") and "/" in path:  # the rest of "/lib/python3.11/json/..."
        path = path.split("/", 1)[1]
    return path


def parse_collapsed(path: Path) -> list[tuple[str, list[str], int]]:
    """py-spy's raw output with --threads: `thread (tid): name;frame;frame... count`."""
    samples = []
    for line in path.read_text().splitlines() if path.exists() else []:
        stack_text, _, count = line.rpartition(" ")
        head, *frames = stack_text.split(";")
        thread = head.partition(": ")[2] or head
        samples.append((thread, [f for f in frames if f], int(count)))
    return samples


def _short(frame: str) -> str:
    name, _, where = frame.partition(" (")
    return f"{name} ({_short_path(where.rstrip(')'))})"


def _top_table(samples: list[tuple[list[str], int]], total: int, top: int) -> list[str]:
    own = Counter[str]()
    inclusive = Counter[str]()
    for stack, n in samples:
        if stack:
            own[_short(stack[-1])] += n
        for frame in {_short(f) for f in stack}:
            inclusive[frame] += n
    lines = ["    own time:"]
    lines += [f"      {n / total:6.1%}  {name}" for name, n in own.most_common(top)]
    lines.append("    total time (with callees):")
    ranked = [(name, n) for name, n in inclusive.most_common() if "(threading.py" not in name]
    lines += [f"      {n / total:6.1%}  {name}" for name, n in ranked[:top]]
    return lines
