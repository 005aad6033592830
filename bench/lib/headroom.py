"""How far the platform is from the same work done raw (docs/speed.md, "Headroom").

- `RawApp`: bench/raw_submission.py in a process of its own, on a copy of hiring's database
  taken while hiring runs (so it holds the same candidates, assignments and exercises);
- `sustained`: the highest offered rate an address holds at p99 under a bound, with no error;
- `relay_rate`: hiring's outbox relay moving a backlog of money events into the embedded log,
  in this process, with nothing else running.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx
import sqlalchemy as sa

from bench.lib.cpu import cpu_of
from bench.lib.load import PhaseResult, Request, open_loop
from bench.lib.records import bonus_events, stage
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.messaging.embedded_log import EmbeddedLog
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.relay import OutboxRelay
from teacher_hiring.messaging.sinks import LogSink
from teacher_hiring.messaging.tables import metadata as messaging_tables
from teacher_hiring.messaging.tables import outbox
from teacher_hiring.runtime.db import dispose, make_engine

ROOT = Path(__file__).resolve().parents[2]
RAW_APP = (sys.executable, "-m", "bench.raw_submission")


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (the backup API reads one snapshot)."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()


class RawApp:
    """The raw baseline serving a fresh copy of a snapshot of hiring's database;
    `restart()` starts it over on a new copy (each step of a rate ladder starts equal)."""

    def __init__(self, snapshot: Path, workdir: Path) -> None:
        self.snapshot = snapshot
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._copies = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu_seconds(self) -> float:
        spent = cpu_of(self.pid)
        if spent is None:
            raise RuntimeError("the raw app is not running")
        return spent

    def start(self) -> None:
        self._copies += 1
        database = self.workdir / f"raw-{self._copies}.db"
        copy_database(self.snapshot, database)
        log = (self.workdir / "raw.log").open("ab")
        self.process = subprocess.Popen(
            [*RAW_APP, "--database", str(database), "--port", str(self.port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = (self.workdir / "raw.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the raw app did not start:\n{tail}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        self.process = None
        for old in self.workdir.glob(f"raw-{self._copies}.db*"):
            old.unlink()

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass
class Ladder:
    """The rates tried, in order, and the highest that held."""

    steps: list[PhaseResult] = field(default_factory=list)
    sustained: float = 0.0

    def line(self) -> str:
        tried = ", ".join(
            f"{p.rate:.0f}/s p99 {p.pct(99):.1f} ms" + (f" {p.errors} errors" if p.errors else "")
            for p in sorted(self.steps, key=lambda p: p.rate)
        )
        return f"sustained {self.sustained:.0f}/s ({tried})"


def sustained(
    url: str,
    pool: Callable[[int], Sequence[Request]],
    rates: Sequence[float],
    seconds: float,
    p99_ms: float,
    before_step: Callable[[], object],
    refine: int = 2,
    name: str = "",
) -> Ladder:
    """Step the offered rate up until p99 reaches `p99_ms` or a request fails, then halve the
    gap to the last rate that held `refine` times. `pool(n)` gives a step's requests,
    `before_step` runs before each (waits for the platform to settle, or restarts the raw
    app on a fresh copy)."""
    ladder = Ladder()

    def holds(rate: float) -> bool:
        before_step()
        phase = open_loop(url, pool(int(rate * seconds)), rate, f"{name}, {rate:.0f}/s")
        print("    " + phase.line(), flush=True)
        ladder.steps.append(phase)
        return phase.pct(99) <= p99_ms and not phase.errors

    failed = None
    for rate in rates:
        if not holds(rate):
            failed = rate
            break
        ladder.sustained = rate
    if failed is not None:
        low, high = ladder.sustained, failed
        for _ in range(refine):
            middle = round((low + high) / 2)
            if middle in (low, high):
                break
            if holds(middle):
                low = ladder.sustained = middle
            else:
                high = middle
    return ladder


def relay_rate(events: int, seed: int = 7) -> float:
    """Events/s of hiring's OutboxRelay (its defaults) moving `events` staged money events to
    an embedded log, in this process, timed from the first pass to the last row marked sent."""
    registry = SchemaRegistry.load()
    with tempfile.TemporaryDirectory(prefix="th-speed-relay-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/hiring.db")
        try:
            messaging_tables.create_all(engine)
            staged = bonus_events(registry, [f"manager-{i}" for i in range(10)], events, seed)
            stage(engine, Outbox(registry, producer="hiring"), staged)
            log = EmbeddedLog(Path(tmp) / "log.db")
            relay = OutboxRelay(engine, LogSink(log.producer(), registry), service="hiring")
            unsent = sa.select(sa.func.count()).where(outbox.c.sent_at.is_(None))
            started = time.perf_counter()
            moved = 0
            while moved < events:
                moved += relay.run_once()
            seconds = time.perf_counter() - started
            with engine.connect() as conn:
                left = conn.execute(unsent).scalar_one()
            log.close()
        finally:
            dispose(engine)
    if left:
        raise RuntimeError(f"relay: {left} rows left unsent")
    return events / seconds
