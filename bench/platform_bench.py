"""Submission latency under open-loop load, and how fast the bonus ledger drains a backlog.

One run, same machine, compared within the run (this 2-core machine is noisy):
  phase A  all three services up, `--rate` submissions/s for `--seconds`;
  phase B  exercises and bonus stopped, same load — the ratio B/A should be about 1,
           because a submission never waits for another service (Problem-010/080);
  drain    bonus and exercises started again; the money events issued during B are applied,
           timed from start to the ledger matching what hiring issued (Problem-040);
  baseline raw SQLite inserts of the same number of ledger-like rows, one transaction per 500.

Open loop: requests are sent on a fixed schedule whatever the answers do, and latency is
measured from the scheduled time, so queueing shows instead of hiding (no coordinated omission).

    .venv/bin/python bench/platform_bench.py --rate 300 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from teacher_hiring.runtime.processes import SERVICES, Deployment, Platform


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PhaseResult:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    def pct(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, int(q / 100 * len(data)))]

    def line(self) -> str:
        sent = len(self.latencies_ms) + self.errors
        return (
            f"{self.name:<28} sent {sent:>6}  ok {len(self.latencies_ms):>6}"
            f"  errors {self.errors:>4}  {sent / self.seconds:7.1f}/s"
            f"  p50 {self.pct(50):6.2f} ms  p95 {self.pct(95):6.2f} ms"
            f"  p99 {self.pct(99):6.2f} ms  max {max(self.latencies_ms, default=0):7.2f} ms"
        )


class Workload:
    """Managers, exercises and registered candidates: the measured requests are submissions."""

    def __init__(self, platform: Platform, seed: int) -> None:
        self.platform = platform
        self.rng = random.Random(seed)
        self.client = httpx.Client(timeout=30)
        self.answers: dict[str, str] = {}
        self.authors: list[str] = []

    def url(self, service: str, path: str) -> str:
        return self.platform[service].url + path

    def setup(self, managers: int, exercises: int) -> None:
        for i in range(managers):
            body = {
                "first_name": "Bench",
                "last_name": f"Manager {i}",
                "team": "bench",
                "email": f"m{i}@bench.example",
            }
            self.authors.append(self._post("exercises", "/managers", body)["id"])
        for i in range(exercises):
            answer = f"answer {i}"
            body = {
                "author_id": self.authors[i % managers],
                "title": f"Bench exercise {i}",
                "statement": f"Bench statement {i}",
                "accepted_answers": [answer],
                "check_mode": "normalized",
                "difficulty": 1 + i % 5,
            }
            self.answers[self._post("exercises", "/exercises", body)["id"]] = answer
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            items = self.client.get(self.url("hiring", "/exercises")).json()
            items = items if isinstance(items, list) else items["items"]
            if len(items) >= exercises:
                return
            time.sleep(0.05)
        raise TimeoutError("hiring did not learn the exercises")

    def submissions(self, candidates: int, skill: float) -> list[tuple[str, dict[str, Any]]]:
        """Register candidates; one submission per (candidate, exercise), right with `skill`."""
        work = []
        for n in range(candidates):
            body = {"name": f"Bench candidate {n}", "email": f"c{n}@bench.example"}
            candidate = self._post("hiring", "/candidates", body)
            for exercise in candidate["exercises"]:
                right = self.rng.random() < skill
                answer = self.answers[exercise["exercise_id"]] if right else "wrong"
                work.append(
                    (
                        f"/candidates/{candidate['id']}/submissions",
                        {
                            "exercise_id": exercise["exercise_id"],
                            "exercise_version": exercise["version"],
                            "answer": answer,
                        },
                    )
                )
        self.rng.shuffle(work)
        return work

    def issued_count(self) -> int:
        issued = self.client.get(self.url("hiring", "/totals/issued")).json()
        return _count(issued, ("bonus_count", "fine_count"))

    def money_counts(self) -> tuple[int, int]:
        issued = self.client.get(self.url("hiring", "/totals/issued")).json()
        ledger = self.client.get(self.url("bonus", "/ledger/totals")).json()
        return _count(issued, ("bonus_count", "fine_count")), _count(
            ledger, ("bonus_count", "fine_count")
        )

    def _post(self, service: str, path: str, body: dict[str, Any]) -> Any:
        response = self.client.post(self.url(service, path), json=body)
        response.raise_for_status()
        return response.json()


def _count(body: Any, fields: tuple[str, ...]) -> int:
    rows = body if isinstance(body, list) else body.get("items", body)
    if isinstance(rows, dict):
        rows = list(rows.values())
    return sum(int(row.get(f, 0)) for row in rows for f in fields)


async def open_loop(
    base_url: str, work: list[tuple[str, dict[str, Any]]], rate: float, name: str
) -> PhaseResult:
    """aiohttp, not httpx: the generator shares the 2 cores and must cost little per request."""
    result = PhaseResult(name)
    interval = 1.0 / rate
    connector = aiohttp.TCPConnector(limit=512)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as client:

        async def one(scheduled: float, path: str, body: dict[str, Any]) -> None:
            try:
                async with client.post(path, json=body) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                result.errors += 1
                return
            elapsed_ms = (time.perf_counter() - scheduled) * 1000
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status >= 500:
                result.errors += 1
            else:
                result.latencies_ms.append(elapsed_ms)

        started = time.perf_counter()
        tasks = []
        for i, (path, body) in enumerate(work):
            scheduled = started + i * interval
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled, path, body)))
        await asyncio.gather(*tasks)
        result.seconds = time.perf_counter() - started
    return result


def raw_insert_rate(rows: int, directory: Path) -> float:
    """The ceiling: ledger-like rows inserted straight into SQLite, 500 per transaction."""
    conn = sqlite3.connect(directory / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE ledger (id INTEGER PRIMARY KEY, manager_id TEXT, amount INTEGER,"
        " business_key TEXT UNIQUE, event_id TEXT, trace_id TEXT, recorded_at REAL)"
    )
    conn.execute(
        "CREATE TABLE inbox (consumer TEXT, event_id TEXT, PRIMARY KEY (consumer, event_id))"
    )
    started = time.perf_counter()
    for start in range(0, rows, 500):
        conn.execute("BEGIN IMMEDIATE")
        for i in range(start, min(rows, start + 500)):
            conn.execute("INSERT INTO inbox VALUES ('g', ?)", (f"e{i}",))
            conn.execute(
                "INSERT INTO ledger (manager_id, amount, business_key, event_id, trace_id,"
                " recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
                (f"m{i % 10}", 1000, f"bonus:{i}", f"e{i}", "t", time.time()),
            )
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return rows / seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=300.0, help="submissions per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--skill", type=float, default=0.7, help="share of correct answers")
    parser.add_argument("--exercises", type=int, default=60)
    parser.add_argument("--managers", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    per_phase = int(args.rate * args.seconds)
    candidates = per_phase // 3 + 1
    with tempfile.TemporaryDirectory(prefix="th-bench-") as tmp:
        deployment = Deployment(
            data_dir=Path(tmp) / "var", ports={name: free_port() for name in SERVICES}
        )
        platform = Platform(deployment)
        platform.start()
        try:
            workload = Workload(platform, args.seed)
            workload.setup(args.managers, args.exercises)
            print(f"registering {2 * candidates} candidates...", flush=True)
            work_a = workload.submissions(candidates, args.skill)[:per_phase]
            work_b = workload.submissions(candidates, args.skill)[:per_phase]
            time.sleep(2)  # let the registrations' events settle before measuring
            hiring = platform["hiring"].url

            a = asyncio.run(open_loop(hiring, work_a, args.rate, "A: all services up"))
            print(a.line(), flush=True)
            settle_a_s, booked_after_a = wait_for_ledger(workload, timeout_s=60)
            platform["exercises"].kill()
            platform["bonus"].kill()
            b = asyncio.run(open_loop(hiring, work_b, args.rate, "B: exercises+bonus down"))
            print(b.line(), flush=True)

            backlog = workload.issued_count() - booked_after_a
            restarted = time.perf_counter()
            platform["bonus"].start()
            platform["exercises"].start()
            platform["bonus"].wait_ready()
            ready_after_s = time.perf_counter() - restarted
            drain_s, _ = wait_for_ledger(workload, timeout_s=120)
            raw = raw_insert_rate(max(backlog, 1000), Path(tmp))
        finally:
            platform.stop()

    rate = backlog / drain_s if drain_s else float("nan")
    print()
    print(f"p99 B/A: {b.pct(99) / a.pct(99):.2f}   p50 B/A: {b.pct(50) / a.pct(50):.2f}")
    print(f"after phase A the ledger caught up in {settle_a_s:.2f} s")
    print(
        f"ledger drain after the outage: {backlog} money events in {drain_s:.2f} s once bonus"
        f" was ready ({ready_after_s:.2f} s to restart) = {rate:,.0f} events/s;"
        f" {rate / args.rate:.1f}x the offered submission rate"
    )
    print(f"raw SQLite inserts (same rows, no log, no Python service): {raw:,.0f} rows/s")
    print(f"status codes A {a.statuses}  B {b.statuses}")


def wait_for_ledger(workload: Workload, timeout_s: float) -> tuple[float, int]:
    """Seconds until the ledger holds every money event hiring issued, and how many that is."""
    started = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    issued, booked = workload.money_counts()
    while booked < issued and time.monotonic() < deadline:
        time.sleep(0.02)
        issued, booked = workload.money_counts()
    if booked != issued:
        raise AssertionError(f"ledger holds {booked} money events, hiring issued {issued}")
    return time.perf_counter() - started, booked


if __name__ == "__main__":
    main()
