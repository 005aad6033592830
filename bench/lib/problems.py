"""One measurement per business problem of the first document, on a running platform.

Each function returns plain data (bench/lib/report.py turns it into tables and charts) and prints
a line per step as it goes, so a long run shows where it is.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.lib.load import PhaseResult, open_loop, percentile
from bench.lib.platform_under_test import UnderTest, Workload
from bench.lib.profiles import Profile
from teacher_hiring.runtime.wiring import Wiring

STATES = ("all up", "bonus down", "exercises down")
WIRINGS: tuple[Wiring, ...] = ("before", "after")
SUBMISSION = ("POST", "/candidates/{candidate_id}/submissions")
FRESHNESS_SUBJECT = "bench-freshness"
POLL_S = 0.003
"""How often hiring is asked whether it serves the new version."""
SERVICE_ROUTES = ("/metrics", "/ready", "/health", "/totals/issued")
"""Requests of the bench itself (and of whoever watches: its reads of what was issued while
it waits for the ledger), not of another service."""


# -- Problem-010/050/080, 060, 070/100: latency and errors, calls to exercises, the ledger ------


@dataclass
class WiringRun:
    wiring: Wiring
    phases: dict[str, PhaseResult] = field(default_factory=dict)
    exercises_calls: dict[str, float] = field(default_factory=dict)
    """Requests exercises received from the others during `all up`, by route."""
    submissions_all_up: int = 0
    """Submissions hiring handled during `all up` (its http_requests_total): the requests the
    bench gave up on after its timeout are counted if hiring handled them all the same."""
    reconciliation: dict[str, Any] = field(default_factory=dict)
    catch_up_s: float = 0.0
    profile: list[str] = field(default_factory=list)
    """py-spy's summary of hiring during `all up`, with --profile."""
    cpu_ms: dict[str, float] = field(default_factory=dict)
    """CPU milliseconds per submission sent during `all up`, by process (services and the
    load generator): what a submission costs, whatever the machine's speed that day."""

    @property
    def calls_per_1000(self) -> float:
        return 1000 * sum(self.exercises_calls.values()) / max(1, self.submissions_all_up)


def calls_by_others(
    before: dict[tuple[str, str], float], after: dict[tuple[str, str], float]
) -> dict[str, float]:
    return {
        f"{method} {route}": count - before.get((method, route), 0.0)
        for (method, route), count in after.items()
        if route not in SERVICE_ROUTES
        and not route.startswith("/operator")
        and count - before.get((method, route), 0.0) > 0
    }


WARM_UP_S = 5.0
"""Seconds of the offered load sent, not measured, before a wiring's rows."""


def warm_up(
    target: UnderTest, workload: Workload, rate: float, seconds: float, wiring: str
) -> None:
    """The offered load for a few seconds, not measured: the first seconds after a start or a
    rewiring pay for caches filling (SQLite's pages, each candidate's first token check), which
    is not the cost of a submission. Then everything it caused is consumed."""
    phase = open_loop(
        target.url("hiring"), workload.take(int(rate * seconds)), rate, f"{wiring}, warm-up"
    )
    print(f"  {wiring}, warm-up: {phase.sent:,} sent at {rate:.0f}/s, not measured", flush=True)
    target.settle()


def latency(
    target: UnderTest,
    workload: Workload,
    rate: float,
    seconds: float,
    profile_dir: Path | None = None,
) -> list[WiringRun]:
    """Each wiring, each state, `rate` submissions/s open loop for `seconds`; with
    `profile_dir`, py-spy samples hiring during each wiring's `all up` row."""
    runs = []
    for wiring in WIRINGS:
        target.wire(wiring)
        run = WiringRun(wiring)
        warm_up(target, workload, rate, min(seconds, WARM_UP_S), wiring)
        row = Row(target, workload, rate, int(rate * seconds), run)
        for state in STATES:
            if state == "all up":
                row.all_up(profile_dir)
            else:
                row.down(state)
        run.reconciliation = settle_and_reconcile(target)
        summary = run.reconciliation["summary"]
        print(
            f"  {wiring}: exercises received {run.calls_per_1000:.0f} calls per 1,000"
            f" submissions {run.exercises_calls}; ledger {summary['ledger_count']} entries,"
            f" issued {summary['issued_count']}, differences {summary['by_kind']}",
            flush=True,
        )
        runs.append(run)
    target.wire("after")
    return runs


@dataclass
class Row:
    """One wiring's rows of `latency`, each recorded into `run`."""

    target: UnderTest
    workload: Workload
    rate: float
    per_phase: int
    run: WiringRun

    def all_up(self, profile_dir: Path | None) -> None:
        """Every service up: the latency, CPU per submission, the calls exercises received
        and, with `profile_dir`, py-spy on hiring."""
        target, run = self.target, self.run
        received = target.requests_received("exercises")
        handled = target.requests_received("hiring").get(SUBMISSION, 0.0)
        spy = None
        if profile_dir is not None:
            hiring = target.platform["hiring"].pid
            spy = Profile(f"hiring-{run.wiring}", hiring, "MainThread", profile_dir)
            spy.start()
        cpu_before = target.cpu_seconds()
        phase = self._send("all up")
        cpu_after = target.cpu_seconds()
        run.cpu_ms = {
            process: (cpu_after[process] - spent) * 1000 / max(1, phase.sent)
            for process, spent in cpu_before.items()
        }
        if spy is not None:
            spy.stop()
            run.profile = spy.report(12)
        print("  " + phase.line(), flush=True)
        spent = ", ".join(f"{process} {ms:.2f}" for process, ms in run.cpu_ms.items())
        print(f"    CPU ms per submission: {spent}", flush=True)
        run.phases["all up"] = phase
        run.catch_up_s = max(run.catch_up_s, target.settle())
        # Once hiring is done with the row: a request its client gave up on may still have
        # been handled, calls and all.
        run.exercises_calls = calls_by_others(received, target.requests_received("exercises"))
        hiring_now = target.requests_received("hiring").get(SUBMISSION, 0.0)
        run.submissions_all_up = int(hiring_now - handled)

    def down(self, state: str) -> None:
        """The service `state` names killed for the row, then started again."""
        service = state.split()[0]
        self.target.kill(service)
        phase = self._send(state)
        print("  " + phase.line(), flush=True)
        self.run.phases[state] = phase
        self.target.revive(service)
        self.run.catch_up_s = max(self.run.catch_up_s, self.target.settle())

    def _send(self, state: str) -> PhaseResult:
        requests = self.workload.take(self.per_phase)
        name = f"{self.run.wiring}, {state}"
        return open_loop(self.target.url("hiring"), requests, self.rate, name)


def settle_and_reconcile(target: UnderTest) -> dict[str, Any]:
    """Once the ledger caught up with what was issued: bonus's reconciliation of it all."""
    target.wait_for_ledger()
    time.sleep(1.0)  # anything late (a redelivery, a relay's second try) would show
    return target.reconcile()


def ledger_faults(report: dict[str, Any]) -> tuple[int, int]:
    """(duplicates, losses) in a reconciliation: entries beyond one per issued business key,
    and issued money missing from the ledger."""
    summary = report["summary"]
    by_kind = summary["by_kind"]
    lost = int(by_kind.get("missing", 0))
    extra = int(by_kind.get("not_issued", 0)) + int(by_kind.get("other_event_id", 0))
    doubled = max(0, int(summary["ledger_count"]) - (int(summary["issued_count"]) - lost))
    return max(doubled, extra), lost


# -- Problem-020: a new version, from the manager's save to hiring serving it -------------------


@dataclass
class Freshness:
    mode: str
    seconds: list[float] = field(default_factory=list)
    refused_old: int = 0
    checked_old: int = 0
    old_statuses: dict[int, int] = field(default_factory=dict)

    def pct(self, q: float) -> float:
        return percentile(self.seconds, q)


def freshness(target: UnderTest, workload: Workload, saves: int) -> list[Freshness]:
    """For `exercise-updates` in push and in event mode: `saves` new versions, each timed from
    the moment the manager's save is sent until hiring's replica serves it (GET /exercises,
    polled meanwhile); then a submission of the old version must be refused (409)."""
    author = workload.authors[0]
    # A subject of their own: the candidate who checks the refusals is assigned exactly these.
    exercise_ids = workload.create_exercises(max(4, min(saves, 20)), [author], FRESHNESS_SUBJECT)
    candidate = _candidate(target)
    results = []
    with ThreadPoolExecutor(1) as pool, httpx.Client(timeout=30) as client:
        positions = _positions(target, client, exercise_ids)
        editor = Editor(target, client, pool, author, candidate, positions)
        for mode in ("push", "event"):
            target.set_link("exercise-updates", mode)
            result = Freshness(mode)
            for n in range(saves):
                editor.save(result, exercise_ids[n % len(exercise_ids)], n)
            print(
                f"  exercise-updates={mode}: {saves} saves, save-to-served p50"
                f" {1000 * result.pct(50):.1f} ms p99 {1000 * result.pct(99):.1f} ms;"
                f" old version refused {result.refused_old}/{result.checked_old}"
                f" {result.old_statuses}",
                flush=True,
            )
            results.append(result)
    target.set_link("exercise-updates", "push")
    return results


@dataclass
class Editor:
    """The manager who saves new versions of the exercises, and the candidate who then
    submits an answer to an old one."""

    target: UnderTest
    client: httpx.Client
    pool: ThreadPoolExecutor
    author: str
    candidate: str
    positions: dict[str, int]
    """Where each exercise is in hiring's list."""
    versions: dict[str, int] = field(default_factory=dict)

    def save(self, result: Freshness, exercise_id: str, n: int) -> None:
        """The `n`th save: timed until hiring serves it; every fifth, the old version checked."""
        target, client = self.target, self.client
        old = self.versions.get(exercise_id, 1)
        body = {
            "editor_id": self.author,
            "statement": f"What is the answer? ({result.mode} {n})",
            "expected_version": old,
        }
        started = time.perf_counter()
        save = self.pool.submit(
            client.put,
            f"{target.url('exercises')}/exercises/{exercise_id}",
            json=body,
            headers=target.credentials.manager(self.author),
        )
        position = self.positions[exercise_id]
        served = _wait_served(target, client, exercise_id, position, old + 1, started)
        result.seconds.append(served)
        response = save.result()
        response.raise_for_status()
        self.versions[exercise_id] = old + 1
        if n % 5 == 0:
            result.checked_old += 1
            status = _submit_old(target, client, self.candidate, exercise_id, old)
            result.refused_old += status == 409
            result.old_statuses[status] = result.old_statuses.get(status, 0) + 1


def _candidate(target: UnderTest) -> str:
    response = target.client.post(
        target.url("hiring") + "/candidates",
        json={
            "name": "Freshness check",
            "email": f"fresh.{time.time_ns()}@bench.example",
            "subject": FRESHNESS_SUBJECT,
        },
    )
    response.raise_for_status()
    return str(response.json()["id"])


def _positions(target: UnderTest, client: httpx.Client, exercise_ids: list[str]) -> dict[str, int]:
    """Where each exercise is in hiring's list (oldest first, so it stays there): the poll
    then reads that one row, and costs hiring little while it applies the update."""
    items = client.get(
        target.url("hiring") + "/exercises",
        params={"limit": 1000},
        headers=target.credentials.operator(),
    ).json()["items"]
    found = {str(item.get("exercise_id", item.get("id"))): i for i, item in enumerate(items)}
    return {exercise_id: found[exercise_id] for exercise_id in exercise_ids}


def _wait_served(
    target: UnderTest,
    client: httpx.Client,
    exercise_id: str,
    position: int,
    version: int,
    started: float,
) -> float:
    deadline = time.monotonic() + 30
    url = target.url("hiring") + "/exercises"
    params = {"offset": position, "limit": 1}
    while time.monotonic() < deadline:
        items = client.get(url, params=params, headers=target.credentials.operator())
        for item in items.json()["items"]:
            same = item.get("exercise_id", item.get("id")) == exercise_id
            if same and int(item.get("version", 0)) >= version:
                return time.perf_counter() - started
        time.sleep(POLL_S)
    raise TimeoutError(f"hiring did not serve version {version} of {exercise_id} in 30 s")


def _submit_old(
    target: UnderTest, client: httpx.Client, candidate_id: str, exercise_id: str, version: int
) -> int:
    response = client.post(
        f"{target.url('hiring')}/candidates/{candidate_id}/submissions",
        json={"exercise_id": exercise_id, "exercise_version": version, "answer": "?"},
        headers=target.credentials.candidate(candidate_id),
    )
    return response.status_code


# -- Problem-040: the highest sustained rate, an outage of bonus under it, the drain ------------


@dataclass
class Capacity:
    steps: list[PhaseResult] = field(default_factory=list)
    sustained: float = 0.0


REFINE_STEPS = 2
"""Halvings of the gap between the last rate that held and the first that did not."""


def capacity(
    target: UnderTest, workload: Workload, rates: list[float], seconds: float, p99_ms: float
) -> Capacity:
    """Step up the offered rate until p99 reaches `p99_ms` or a request fails, then halve the
    gap to the last rate that held REFINE_STEPS times; the highest rate that held is the
    sustained one."""
    result = Capacity()

    def holds(rate: float) -> bool:
        phase = open_loop(
            target.url("hiring"), workload.take(int(rate * seconds)), rate, f"after, {rate:.0f}/s"
        )
        print("  " + phase.line(), flush=True)
        result.steps.append(phase)
        target.settle()
        return phase.pct(99) < p99_ms and not phase.errors

    failed = None
    for rate in rates:
        if not holds(rate):
            failed = rate
            break
        result.sustained = rate
    if failed is not None and result.sustained:
        low, high = result.sustained, failed
        for _ in range(REFINE_STEPS):
            middle = round((low + high) / 2)
            if middle in (low, high):
                break
            if holds(middle):
                low = result.sustained = middle
            else:
                high = middle
    result.steps.sort(key=lambda phase: phase.rate)
    return result


@dataclass
class Sample:
    t: float
    issued: int
    booked: int | None


@dataclass
class Outage:
    rate: float
    outage_s: float
    phase: PhaseResult
    samples: list[Sample]
    killed_at: float
    started_at: float
    ready_at: float
    backlog: int = 0
    drain_s: float = float("nan")
    drained: int = 0
    arrival_rate: float = 0.0

    @property
    def drain_rate(self) -> float:
        return self.drained / self.drain_s if self.drain_s > 0 else float("nan")


def outage(
    target: UnderTest,
    workload: Workload,
    rate: float,
    outage_s: float,
    before_s: float,
    after_s: float,
) -> Outage:
    """`rate` submissions/s for before_s + outage_s + after_s; bonus killed after before_s and
    started again outage_s later. Money issued and booked sampled every 0.2 s."""
    marks: dict[str, float] = {}
    origin = time.perf_counter()

    def kill() -> None:
        marks["killed"] = time.perf_counter() - origin
        target.kill("bonus")

    def revive() -> None:
        marks["started"] = time.perf_counter() - origin
        target.revive("bonus")
        marks["ready"] = time.perf_counter() - origin

    sampler = MoneySampler(target, origin)
    sampler.start()
    total = before_s + outage_s + after_s
    phase = open_loop(
        target.url("hiring"),
        workload.take(int(rate * total)),
        rate,
        f"after, {rate:.0f}/s, bonus down {outage_s:.0f} s",
        at=[(before_s, kill), (before_s + outage_s, revive)],
    )
    marks["end"] = time.perf_counter() - origin
    target.wait_for_ledger(600)
    time.sleep(0.5)
    samples = sampler.stop()
    result = Outage(
        rate, outage_s, phase, samples, marks["killed"], marks["started"], marks["ready"]
    )
    _drain(result, marks["end"])
    print("  " + phase.line(), flush=True)
    print(
        f"  backlog {result.backlog} money events when bonus came back; drained in"
        f" {result.drain_s:.2f} s = {result.drain_rate:,.0f}/s against {result.arrival_rate:,.1f}"
        f" money events/s arriving ({result.drain_rate / result.arrival_rate:.1f}x)",
        flush=True,
    )
    return result


class MoneySampler:
    """A thread reading money booked (bonus) and issued (hiring) every 0.2 s, in seconds
    since `origin`."""

    def __init__(self, target: UnderTest, origin: float) -> None:
        self.target = target
        self.origin = origin
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[Sample]:
        self._stop.set()
        self._thread.join()
        return self.samples

    def _run(self) -> None:
        # The ledger first, then what was issued: the lag read is never less than it was.
        # A bonus that does not answer (down, or starting) is a sample without `booked`.
        operator = self.target.credentials.operator()
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                t = time.perf_counter() - self.origin
                booked = self._booked(client, operator)
                try:
                    answer = client.get(
                        self.target.url("hiring") + "/totals/issued", headers=operator
                    )
                    items = answer.json()["items"]
                except (httpx.HTTPError, KeyError, ValueError):
                    self._stop.wait(0.2)
                    continue
                issued = sum(r["bonus_count"] + r["fine_count"] for r in items)
                self.samples.append(Sample(t, issued, booked))
                self._stop.wait(0.2)

    def _booked(self, client: httpx.Client, operator: dict[str, str]) -> int | None:
        try:
            answer = client.get(self.target.url("bonus") + "/ledger/totals", headers=operator)
            overall = answer.json()["overall"]
            return int(overall["bonus_count"] + overall["fine_count"])
        except (httpx.HTTPError, KeyError, ValueError):
            return None


def _drain(result: Outage, load_ended: float) -> None:
    """The backlog when bonus came back and how long it took to drain it.

    The drain starts at the last sample before bonus booked anything again (bonus starts its
    consumers before it answers /ready), and ends at the first sample where the lag is back to
    what it was before the outage (money issued a moment ago is always on its way).
    """
    known = [s for s in result.samples if s.booked is not None]
    before = [s for s in known if s.t < result.killed_at]
    normal_lag = max([5, *(s.issued - (s.booked or 0) for s in before)])
    at_kill = max((s.booked or 0 for s in before), default=0)
    start = next((s for s in known if s.t >= result.started_at and (s.booked or 0) > at_kill), None)
    if start is None:
        return
    begin_t = max((s.t for s in result.samples if s.t < start.t), default=start.t)
    end = next(
        (s for s in known if s.t > start.t and s.issued - (s.booked or 0) <= normal_lag), None
    )
    result.backlog = start.issued - at_kill
    if end is not None:
        result.drain_s = end.t - begin_t
        result.drained = (end.booked or 0) - at_kill
    loaded = [s for s in result.samples if s.t <= load_ended]
    first, last = loaded[0], loaded[-1]
    result.arrival_rate = (last.issued - first.issued) / max(1e-9, last.t - first.t)
