"""docs/benchmarks.md from one run: the tables, the figures (docs/benchmarks/*.png), the goals."""

from __future__ import annotations

import os
import platform as host
from pathlib import Path
from types import ModuleType

from bench.lib.problems import STATES, Capacity, Outage, WiringRun, ledger_faults
from bench.lib.results import Goal, Results, goals

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "benchmarks.md"
FIGURES = ROOT / "docs" / "benchmarks"


def _met(goal: Goal) -> str:
    return {True: "**met**", False: "**missed**", None: "—"}[goal.met]


def print_goals(r: Results) -> None:
    print("\nGoals:")
    for g in goals(r):
        verdict = {True: "met", False: "MISSED", None: "-"}[g.met]
        print(f"  [{verdict:>6}] {g.name}: {g.measured} (goal {g.target})")


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if value == value else "—"


def write(r: Results) -> Path:
    FIGURES.mkdir(parents=True, exist_ok=True)
    cmd = f"`{r.command}`"
    lines = [
        "# Benchmarks",
        "",
        "The business problems of the first document, measured: the platform as it is (`after`)",
        "against the same services wired the old way (`before`, docs/runbooks/links.md), in one",
        "run, on one machine. This page is written by the run itself:",
        "",
        "```bash",
        "make bench                              # embedded deployment, ~10-15 min",
        "make bench ARGS=--quick                 # ~2-3 min, shorter phases (development)",
        "make bench ARGS=--distributed           # Kafka + PostgreSQL (started with scripts/)",
        ".venv/bin/python -m bench --help        # every flag (rate, phase length, outage, ...)",
        "```",
        "",
        "Other pages of figures, each written by its own command: docs/speed.md (`make",
        "bench-speed`: the platform at its rated load, p99 and the ledger's drain against raw",
        "SQLite) and docs/web-speed.md (`make bench-web`: a candidate's answer through the web",
        "pages against the same answer sent straight to hiring).",
        "",
        f"This run: {cmd} — {r.deployment}, {r.started:%Y-%m-%d %H:%M} UTC,",
        f"{r.seconds / 60:.1f} minutes, {os.cpu_count()} cores ({host.machine()}) shared by the"
        " three services, their relays",
        "and consumers and the load generator. Absolute figures move from run to run on this",
        "machine; compare within the run.",
        "",
        "Load: open loop (requests sent on a fixed schedule whatever the answers do, latency",
        "measured from the moment each was due, so queueing shows instead of hiding); each",
        "submission is a registered candidate's answer to one of their exercises, 70 % right;",
        "every request carries a bearer token minted with the run's secret as the",
        "services verify it. An error is no answer or a 5xx; its time counts in the latency.",
        "Before each wiring's rows, a few seconds of the same load are sent and not measured",
        "(caches filling after a start or a rewiring), and every row starts once all consumers",
        "and relays have caught up.",
        "",
    ]
    lines += _goals_section(r)
    lines += _latency_section(r, cmd)
    lines += _freshness_section(r, cmd)
    lines += _capacity_section(r, cmd)
    lines += _peers_section(r, cmd)
    if r.notes:
        lines += ["## Notes of this run", ""] + [f"- {n}" for n in r.notes] + [""]
    profiles = [run for run in r.latency if run.profile]
    if profiles:
        lines += ["## Profiles of this run (--profile)", ""]
        for run in profiles:
            lines += [f"hiring during `{run.wiring}, all up`:", "", "```", *run.profile, "```", ""]
    lines += _profile_section()
    DOC.write_text("\n".join(lines))
    return DOC


def _kinds(by_kind: dict[str, int]) -> str:
    found = {k: v for k, v in by_kind.items() if v}
    return ", ".join(f"{k}: {v}" for k, v in found.items()) or "none"


def _charts() -> ModuleType:
    """bench.charts, imported when drawing: matplotlib is in the bench extra only, and the
    goals are judged without it."""
    from bench.lib import charts

    return charts


def _goals_section(r: Results) -> list[str]:
    lines = [
        f"## Goals ({r.deployment}; the goals were set for the embedded deployment)",
        "",
        "| goal | target | measured | |",
        "|---|---|---|---|",
    ]
    for g in goals(r):
        lines.append(f"| {g.name} | {g.target} | {g.measured} | {_met(g)} |")
    lines.append("")
    after = r.run("after")
    if after is not None and r.capacity is not None:
        p99 = after.phases["all up"].pct(99)
        if p99 >= r.p99_limit_ms and r.capacity.sustained < r.rate:
            lines += [
                f"**Why `after`'s p99 at {r.rate:.0f}/s is over {r.p99_limit_ms:.0f} ms.** The"
                f" capacity search below holds p99 under {r.p99_limit_ms:.0f} ms up to"
                f" {r.capacity.sustained:.0f}/s only: at {r.rate:.0f}/s `after` queues too"
                " (`before`'s queue is capped by the bench's 30 s timeout, most of its requests"
                " failing)." + _cpu_reason(after, r.rate),
                "",
            ]
    return lines


def _cpu_reason(after: WiringRun, rate: float) -> str:
    hiring = after.cpu_ms.get("hiring")
    if hiring is None:
        return ""
    total = sum(after.cpu_ms.values())
    return (
        f" A submission costs {total:.1f} ms of CPU in all (table above), {hiring:.1f} ms of"
        f" it in hiring: at {rate:.0f}/s that is {total * rate / 1000:.1f} of the 2 cores, and"
        f" {hiring * rate / 1000:.2f} cores for hiring, one process whose event loop serves"
        " every request (py-spy with `--profile`: its main thread holds the GIL most of the"
        " time, the time spread over the HTTP server, routing and dependencies, and the"
        " submission's statements and the relay, with no single hot spot). A queue"
        " forms where one thread is busy most of the time, whatever the rest of the machine"
        " does; the distributed deployment runs two hiring instances for this reason."
    )


def _slower_when_down(r: Results) -> list[str]:
    """Said when `after` answered slower with a service down than with all up: a submission
    waits for no other service, so that is something of the run to look into, not the design."""
    after = r.run("after")
    if after is None:
        return []
    up = after.phases["all up"].pct(99)
    slower = [
        f"{state} (p99 {_ms(after.phases[state].pct(99))})"
        for state in STATES[1:]
        if after.phases[state].pct(99) > 2 * up
    ]
    if not slower:
        return []
    return [
        "",
        f"In this run `after` answered slower with a service down than with all up (p99"
        f" {_ms(up)}): {', '.join(slower)}, with no error. A submission waits for no other"
        " service, so this is something of the run to look into (the machine, the bench's own"
        " pauses, what an earlier row left to consume), not of the design.",
    ]


def _cpu_lines(r: Results) -> list[str]:
    """CPU per submission by process during `all up`: the cost of a submission, which unlike
    its latency does not depend on how close to saturation the machine ran that day."""
    runs = [run for run in r.latency if run.cpu_ms]
    if not runs:
        return []
    processes = list(runs[0].cpu_ms)
    lines = [
        "",
        f"CPU time per submission during `all up` (user + system, ms), and what {r.rate:.0f}/s"
        " of it takes of the machine's 2 cores:",
        "",
        "| wiring | " + " | ".join(processes) + " | all | cores at the rate |",
        "|---|" + "---|" * (len(processes) + 2),
    ]
    for run in runs:
        total = sum(run.cpu_ms.values())
        cells = " | ".join(f"{run.cpu_ms[p]:.2f}" for p in processes)
        lines.append(f"| {run.wiring} | {cells} | {total:.2f} | {total * r.rate / 1000:.2f} |")
    return lines


def _latency_section(r: Results, cmd: str) -> list[str]:
    if not r.latency:
        return []
    return [*_latency_table(r, cmd), *_calls_table(r, cmd), *_ledger_table(r)]


def _latency_table(r: Results, cmd: str) -> list[str]:
    """Problem-010, 050, 080: each wiring's rows, CPU per submission, and the chart."""
    _charts().latency(r.latency, FIGURES / "latency.png")
    lines = [
        "## Problem-010, 050, 080: submission latency and errors, before vs after",
        "",
        f"{r.rate:.0f} submissions/s offered for {r.phase_s:.0f} s per row: all services up,",
        "then bonus killed (SIGKILL) for the row, then exercises. In `before` a submission",
        "reads the exercise from exercises and calls bonus (and, on a leak, exercises) before",
        "it answers; in `after` it commits its verdict with its events and answers.",
        "",
        "| wiring | state | sent | errors | error rate | p50 | p95 | p99 | statuses |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in r.latency:
        for state in STATES:
            p = run.phases[state]
            statuses = ", ".join(f"{k or 'none'}: {v}" for k, v in p.statuses().items())
            lines.append(
                f"| {run.wiring} | {state} | {p.sent:,} | {p.errors:,} | {p.error_rate:.1%} |"
                f" {_ms(p.pct(50))} | {_ms(p.pct(95))} | {_ms(p.pct(99))} | {statuses} |"
            )
    lines += _cpu_lines(r)
    lines += _slower_when_down(r)
    return [
        *lines,
        "",
        "![Latency distribution](benchmarks/latency.png)",
        "",
        f"Produced by {cmd} (section `latency`).",
        "",
    ]


def _calls_table(r: Results, cmd: str) -> list[str]:
    """Problem-060: the calls exercises received from the others, and the chart."""
    lines = [
        "## Problem-060: HTTP calls received by exercises per 1,000 submissions",
        "",
        "From exercises' `http_requests_total{service,method,route}` over the `all up` row"
        " (the bench's own /metrics reads left out).",
        "",
        "| wiring | submissions handled by hiring | calls per 1,000 | by route |",
        "|---|---|---|---|",
    ]
    calls = {}
    for run in r.latency:
        routes = ", ".join(f"`{k}`: {v:,.0f}" for k, v in run.exercises_calls.items()) or "none"
        lines.append(
            f"| {run.wiring} | {run.submissions_all_up:,} | {run.calls_per_1000:,.0f} | {routes} |"
        )
        calls[run.wiring] = run.calls_per_1000
    _charts().bars(
        calls, "Problem-060: exercises calls per 1,000 submissions", "calls", FIGURES / "calls.png"
    )
    return [
        *lines,
        "",
        "![Calls to exercises](benchmarks/calls.png)",
        "",
        f"Produced by {cmd} (section `latency`).",
        "",
    ]


def _ledger_table(r: Results) -> list[str]:
    """Problem-070, 100: each wiring's reconciliation."""
    lines = [
        "## Problem-070, 100: duplicates and losses in the ledger",
        "",
        "After each wiring's three rows, once the ledger holds as much money as was issued:",
        "bonus's reconciliation (`GET /operator/reconciliation`) of the money hiring and",
        "exercises issued (`/operator/money-issued`) against the ledger's entries.",
        "",
        "| wiring | issued | in the ledger | duplicated | lost | differences by kind |"
        " caught up after |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in r.latency:
        s = run.reconciliation["summary"]
        dup, lost = ledger_faults(run.reconciliation)
        lines.append(
            f"| {run.wiring} | {s['issued_count']:,} | {s['ledger_count']:,} | {dup} | {lost} |"
            f" {_kinds(s['by_kind'])} | {run.catch_up_s:.1f} s |"
        )
    return [
        *lines,
        "",
        "`before` keeps the money rule of this system (outbox first, inbox and business key at",
        "bonus), so it shows the failures candidates see, not lost money: the old system lost a",
        "credit whose call failed and doubled one sent again after an error.",
        "",
    ]


def _freshness_section(r: Results, cmd: str) -> list[str]:
    if not r.freshness:
        return []
    _charts().freshness(r.freshness, FIGURES / "freshness.png")
    lines = [
        "## Problem-020: from a manager's save to hiring serving the new version",
        "",
        "Each save (`PUT /exercises/{id}` on exercises, one at a time) is timed from the moment",
        "it is sent until hiring's `GET /exercises` serves the new version (its row polled every",
        "3 ms meanwhile); the replica row that serves it is the one that refuses the old version,",
        "which one submission of the old version checks (409) on every fifth save.",
        "",
        "| exercise-updates | saves | p50 | p95 | p99 | max | old version refused |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in r.freshness:
        lines.append(
            f"| {f.mode} | {len(f.seconds)} | {_ms(1000 * f.pct(50))} | {_ms(1000 * f.pct(95))} |"
            f" {_ms(1000 * f.pct(99))} | {_ms(1000 * max(f.seconds))} |"
            f" {f.refused_old}/{f.checked_old} |"
        )
    return [
        *lines,
        "",
        "![Save to served](benchmarks/freshness.png)",
        "",
        f"Produced by {cmd} (section `freshness`).",
        "",
    ]


def _capacity_section(r: Results, cmd: str) -> list[str]:
    lines: list[str] = []
    if r.capacity is not None:
        lines += _capacity_table(r, r.capacity, cmd)
    if r.outage is not None:
        lines += _outage_table(r.outage, cmd)
    return lines


def _capacity_table(r: Results, c: Capacity, cmd: str) -> list[str]:
    _charts().capacity(c, r.p99_limit_ms, FIGURES / "capacity.png")
    lines = [
        "## Problem-040: the highest sustained rate, and a bonus outage under it",
        "",
        f"`after`, all services up; the offered rate stepped up until p99 reached"
        f" {r.p99_limit_ms:.0f} ms or a request failed, then the gap to the last rate that"
        " held halved twice.",
        "",
        "| offered/s | sent | errors | p50 | p95 | p99 |",
        "|---|---|---|---|---|---|",
    ]
    for s in c.steps:
        lines.append(
            f"| {s.rate:.0f} | {s.sent:,} | {s.errors} | {_ms(s.pct(50))} |"
            f" {_ms(s.pct(95))} | {_ms(s.pct(99))} |"
        )
    lines += [
        "",
        (
            f"Sustained: **{c.sustained:.0f} submissions/s** with p99 under"
            f" {r.p99_limit_ms:.0f} ms."
            if c.sustained
            else f"No step kept p99 under {r.p99_limit_ms:.0f} ms: the outage below runs at"
            " the lowest step."
        ),
        "",
        "![Latency by rate](benchmarks/capacity.png)",
        "",
        f"Produced by {cmd} (section `capacity`).",
        "",
    ]
    return lines


def _outage_table(o: Outage, cmd: str) -> list[str]:
    _charts().outage(o, FIGURES / "outage.png")
    p = o.phase
    return [
        f"Under {o.rate:.0f} submissions/s, bonus killed for {o.outage_s:.0f} s and started",
        "again; money issued (hiring's `/totals/issued`) and booked (bonus's `/ledger/totals`)",
        "sampled every 0.2 s.",
        "",
        "| submissions | errors | p50 | p99 | backlog at restart | restart to /ready |"
        " drain time | drain rate | arrival rate | drain / arrival |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {p.sent:,} | {p.errors} | {_ms(p.pct(50))} | {_ms(p.pct(99))} |"
        f" {o.backlog:,} money events | {o.ready_at - o.started_at:.2f} s |"
        f" {o.drain_s:.2f} s | {o.drain_rate:,.0f}/s | {o.arrival_rate:,.1f}/s |"
        f" {o.drain_rate / max(o.arrival_rate, 1e-9):.1f}× |",
        "",
        "The drain runs from the last sample before bonus booked again to the first where",
        "the lag is back to its level before the outage, while submissions keep arriving;",
        "its rate is the events booked over that time.",
        "",
        "![Lag and throughput](benchmarks/outage.png)",
        "",
        f"Produced by {cmd} (section `outage`).",
        "",
    ]


def _peers_section(r: Results, cmd: str) -> list[str]:
    if r.peers is None:
        if r.peers_note:
            return ["## The ledger consumer against its peers", "", r.peers_note, ""]
        return []
    p = r.peers
    ratios = p.ratios()
    _charts().bars(
        {k.replace(" / ", "/\n"): v for k, v in ratios.items()},
        "Ledger consumers: ratios of events/s",
        "ratio",
        FIGURES / "peers.png",
    )
    lines = [
        "## The ledger consumer against FastStream and the raw limits",
        "",
        "On Kafka and PostgreSQL, whatever the deployment above: FastStream has no broker for",
        f"the embedded log. The same {p.events:,} `BonusAdded` events (the relay's bytes, keys",
        "and headers) in a 6-partition topic; each consumer alone, in a process of its own,",
        "from the start of the topic into a fresh bonus database; rate = events over the time",
        "from its first ledger entry to its last. The FastStream peer (`bench/peers/`) does",
        "bonus's database work per event (schema validation, inbox row, ledger entry and",
        "account in one transaction, offset committed after it), then in FastStream's batch",
        "form (up to 500 messages a call, one transaction); bonus's ConsumerRunner does the",
        "same work a poll's batch per transaction. Raw: confluent-kafka produce → consume",
        "alone, and psycopg writing bonus's rows alone.",
        "",
        "| ratio | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v:.2f} |" for k, v in ratios.items()]
    lines += [
        "",
        "| consumer | events/s in this run | ledger entries (must be the events) |",
        "|---|---|---|",
        f"| raw confluent-kafka produce → consume | {p.raw_kafka:,.0f} | |",
        f"| raw PostgreSQL, bonus's rows | {p.raw_pg:,.0f} | |",
    ]
    lines += [
        f"| {name} | {rate:,.0f} | {p.entries[name]:,} |" for name, rate in p.consumers.items()
    ]
    lines += [
        "",
        "![Peers](benchmarks/peers.png)",
        "",
        f"Produced by {cmd} (section `peers`).",
        "",
    ]
    return lines


def _profile_section() -> list[str]:
    return [
        "## Where the time goes",
        "",
        "`make bench-distributed` (bench/distributed.py) takes the pipeline apart on",
        "Kafka and PostgreSQL stage by stage (relay alone, ledger alone, one and two bonus",
        "instances) with CPU per component, and `--profile` samples hiring and bonus with",
        "py-spy (cProfile where py-spy cannot attach). What earlier profiles of the submission",
        "path changed: a plain ASGI middleware instead of Starlette's `BaseHTTPMiddleware`;",
        "the submission route `async`, its ~1 ms of SQLite on the event loop; one pooled",
        "writing connection per process; WAL checkpoints in a background thread; consumers",
        "woken by SQLite's `data_version` and the relay by the commit that staged an event;",
        "a frozen start-up heap and a larger first GC generation; the outbox, issued-money",
        "and relay statements built once with values bound per row (built per call, their",
        "cache-key walk in SQLAlchemy cost more than SQLite's write); a bearer token verified",
        "once only checked for time again; each service's own routes matched before the",
        "operators' (FastAPI tries routers in order, every route of each); the load generator",
        "on uvloop with its bodies encoded before the clock starts.",
        "",
    ]
