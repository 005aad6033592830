"""The figures of docs/benchmarks.md (matplotlib, written as PNG without a display)."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.lib.problems import STATES, Capacity, Freshness, Outage, WiringRun

PALETTE = ["#c0392b", "#2471a3", "#1e8449", "#7d3c98", "#b9770e"]
COLOURS = {"before": "#c0392b", "after": "#2471a3", "push": "#2471a3", "event": "#1e8449"}


def _cdf(ax: plt.Axes, values: list[float], label: str, colour: str) -> None:
    ordered = sorted(values)
    if not ordered:
        return
    shares = [(i + 1) / len(ordered) for i in range(len(ordered))]
    ax.step(ordered, shares, where="post", label=label, color=colour)


def latency(runs: list[WiringRun], path: Path) -> None:
    """Latency distribution (CDF, log scale) per state, before against after."""
    fig, axes = plt.subplots(1, len(STATES), figsize=(13, 3.8), sharey=True)
    for ax, state in zip(axes, STATES, strict=True):
        for run in runs:
            phase = run.phases[state]
            label = f"{run.wiring}: {phase.error_rate:.0%} errors"
            _cdf(ax, phase.latencies_ms, label, COLOURS[run.wiring])
        ax.set_xscale("log")
        ax.set_title(state)
        ax.set_xlabel("submission latency, ms (log)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    axes[0].set_ylabel("share of submissions at or below")
    fig.suptitle("Problem-010/050/080: submission latency, open loop, before vs after")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def freshness(results: list[Freshness], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for result in results:
        values = [1000 * s for s in result.seconds]
        _cdf(ax, values, f"exercise-updates={result.mode}", COLOURS[result.mode])
    ax.set_xscale("log")
    ax.set_xlabel("save to served by hiring, ms (log)")
    ax.set_ylabel("share of saves at or below")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("Problem-020: a new version, from the manager's save to hiring serving it")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def capacity(result: Capacity, limit_ms: float, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.8))
    rates = [step.rate for step in result.steps]
    for q, style in ((50, "o-"), (95, "s-"), (99, "^-")):
        ax.plot(rates, [step.pct(q) for step in result.steps], style, label=f"p{q}")
    ax.axhline(limit_ms, color="grey", linestyle="--", label=f"{limit_ms:.0f} ms")
    ax.set_yscale("log")
    ax.set_xlabel("offered submissions/s (open loop)")
    ax.set_ylabel("latency, ms (log)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title(f"Problem-040: latency by offered rate; sustained {result.sustained:.0f}/s")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def outage(result: Outage, path: Path) -> None:
    """Lag (money issued, not booked) and throughput over time, the outage shaded."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True)
    known = [s for s in result.samples if s.booked is not None]
    top.plot([s.t for s in known], [s.issued - (s.booked or 0) for s in known], color="#c0392b")
    top.set_ylabel("ledger lag, money events")
    booked_rate = []
    for a, b in itertools.pairwise(known):
        booked_rate.append((b.t, ((b.booked or 0) - (a.booked or 0)) / max(1e-6, b.t - a.t)))
    issued_rate = []
    samples = result.samples
    for a, b in itertools.pairwise(samples):
        issued_rate.append((b.t, (b.issued - a.issued) / max(1e-6, b.t - a.t)))
    answered: dict[int, int] = {}
    start = samples[0].t if samples else 0.0
    for o in result.phase.outcomes:
        if 0 < o.status < 500:
            second = int(o.due_s + start)
            answered[second] = answered.get(second, 0) + 1
    bottom.plot(
        *zip(*sorted(answered.items()), strict=True),
        label="submissions answered/s",
        color="#7d3c98",
    )
    if issued_rate:
        bottom.plot(
            *zip(*issued_rate, strict=True),
            label="money events issued/s",
            color="#b9770e",
            alpha=0.8,
        )
    if booked_rate:
        bottom.plot(*zip(*booked_rate, strict=True), label="money events booked/s", color="#2471a3")
    bottom.set_ylabel("per second")
    bottom.set_xlabel("seconds")
    bottom.set_yscale("symlog", linthresh=10)
    bottom.legend(loc="upper left", fontsize=8)
    for ax in (top, bottom):
        ax.axvspan(result.killed_at, result.ready_at, color="grey", alpha=0.2)
        ax.grid(True, alpha=0.3)
    top.set_title(
        f"Problem-040: bonus down {result.outage_s:.0f} s under {result.rate:.0f} submissions/s"
        f"; drained {result.drain_rate / max(result.arrival_rate, 1e-9):.1f}x arrival rate"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def bars(values: dict[str, float], title: str, ylabel: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.6))
    names = list(values)
    ax.bar(
        names,
        [values[n] for n in names],
        color=[PALETTE[i % len(PALETTE)] for i in range(len(names))],
    )
    for i, name in enumerate(names):
        ax.annotate(f"{values[name]:,.2f}", (i, values[name]), ha="center", va="bottom")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
