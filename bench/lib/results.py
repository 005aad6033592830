"""What a `python -m bench` run measured, and the goals of the first document judged on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.lib.peers import PeerResult
from bench.lib.problems import STATES, Capacity, Freshness, Outage, WiringRun, ledger_faults


@dataclass
class Goal:
    name: str
    target: str
    measured: str
    met: bool | None  # None: not measured in this run


@dataclass
class Results:
    command: str
    deployment: str
    rate: float
    phase_s: float
    latency: list[WiringRun] = field(default_factory=list)
    freshness: list[Freshness] = field(default_factory=list)
    capacity: Capacity | None = None
    p99_limit_ms: float = 50.0
    outage: Outage | None = None
    peers: PeerResult | None = None
    peers_note: str = ""
    notes: list[str] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0

    def run(self, wiring: str) -> WiringRun | None:
        return next((r for r in self.latency if r.wiring == wiring), None)


def goals(r: Results) -> list[Goal]:
    out: list[Goal] = []
    before, after = r.run("before"), r.run("after")
    if before and after:
        out += _wiring_goals(before, after, r.rate)
    out += _freshness_goals(r.freshness)
    if r.outage is not None:
        out.append(_outage_goal(r.outage))
    return out


def _wiring_goals(before: WiringRun, after: WiringRun, rate: float) -> list[Goal]:
    """Latency, errors with a service down, calls to exercises, and the ledger's faults."""
    b99, a99 = before.phases["all up"].pct(99), after.phases["all up"].pct(99)
    out = [
        Goal(
            f"after p99 at {rate:.0f} submissions/s ≤ 1/5 of before's",
            "ratio ≤ 0.20",
            f"{a99:.1f} ms / {b99:.1f} ms = {a99 / b99:.2f}",
            a99 / b99 <= 0.2,
        )
    ]
    for state in STATES[1:]:
        ae, be = after.phases[state].error_rate, before.phases[state].error_rate
        out.append(
            Goal(
                f"after error rate with {state.split()[0]} down = 0 (before fails)",
                "0 %",
                f"after {ae:.1%}, before {be:.1%}",
                ae == 0,
            )
        )
    out.append(
        Goal(
            "exercises calls per 1,000 submissions, after = 0",
            "0",
            f"after {after.calls_per_1000:.0f}, before {before.calls_per_1000:.0f}",
            after.calls_per_1000 == 0,
        )
    )
    for run in (before, after):
        dup, lost = ledger_faults(run.reconciliation)
        out.append(
            Goal(
                f"ledger duplicates and losses, {run.wiring}",
                "0 and 0" if run.wiring == "after" else "(reported)",
                f"{dup} duplicated, {lost} lost",
                (dup == 0 and lost == 0) if run.wiring == "after" else None,
            )
        )
    return out


def _freshness_goals(freshness: list[Freshness]) -> list[Goal]:
    limits = {"push": 0.100, "event": 1.0}
    return [
        Goal(
            f"save-to-served p99, exercise-updates={f.mode}",
            f"≤ {1000 * limits[f.mode]:.0f} ms",
            f"{1000 * f.pct(99):.1f} ms (p50 {1000 * f.pct(50):.1f} ms)",
            f.pct(99) <= limits[f.mode],
        )
        for f in freshness
    ]


def _outage_goal(o: Outage) -> Goal:
    ratio = o.drain_rate / o.arrival_rate if o.arrival_rate else float("nan")
    return Goal(
        "drain rate after a bonus outage ≥ 5× the arrival rate",
        "≥ 5×",
        f"{o.drain_rate:,.0f}/s vs {o.arrival_rate:,.1f}/s = {ratio:.1f}×",
        ratio >= 5,
    )
