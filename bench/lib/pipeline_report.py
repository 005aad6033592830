"""The figures of a distributed run, printed: a row per stage against the raw client, the CPU
each component spent on it, the aims, the run's notes and the profiles taken."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.lib.pipeline import Bench, Stage
from bench.lib.raw import RawResult

LABELS = {
    "pipeline": "pipeline: outbox -> Kafka -> ledger",
    "relay": "relay alone: outbox -> Kafka",
    "ledger": "ledger alone, 1 bonus instance",
    "relay2": "relay alone (again)",
    "ledger2": "ledger alone, 2 bonus instances",
}
COLUMNS = ("hiring", "bonus", "kafka", "postgres", "exercises", "bench", "other")
PROFILED = ("relay", "ledger")
"""The stages py-spy samples, with --profile."""

Row = tuple[str, float, float, dict[str, float]]
"""(name, events/s, seconds, CPU-seconds by component)"""


@dataclass
class Figures:
    """What a run measured: the raw baselines, each stage by key (LABELS), and notes."""

    raw: RawResult
    raw_pg: RawResult
    stages: dict[str, Stage] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def print_report(args: Any, figures: Figures, bench: Bench) -> None:
    print()
    print(
        f"Events through Kafka and PostgreSQL: {args.events:,} BonusAdded events per stage,"
        f" {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores shared by everything"
        + (" (py-spy attached during the stages marked *)" if bench.py_spy else "")
    )
    print()
    rows = _rows(figures, bench.py_spy)
    _print_table(rows, figures.raw.rate)
    _print_cpu_legend(rows)
    _print_aims(figures)
    for profile in bench.profiles:
        print()
        print("\n".join(profile.report(args.top)))
    for lines in bench.cprofiles:
        print()
        print("\n".join(lines))


def _rows(figures: Figures, py_spy: bool) -> list[Row]:
    raw, raw_pg = figures.raw, figures.raw_pg
    rows = [("raw confluent-kafka: produce -> consume", raw.rate, raw.seconds, raw.cpu)]
    rows.append(("raw confluent-kafka: produce only", raw.produce_rate, raw.produce_seconds, {}))
    rows.append(("raw PostgreSQL: the consumer's rows", raw_pg.rate, raw_pg.seconds, raw_pg.cpu))
    for key, stage in figures.stages.items():
        star = " *" if py_spy and key in PROFILED else ""
        rows.append((LABELS[key] + star, stage.rate, stage.seconds, stage.cpu))
    return rows


def _print_table(rows: list[Row], raw_rate: float) -> None:
    print("| stage | events/s | seconds | vs raw | " + " | ".join(COLUMNS) + " | CPU per event |")
    print("|---|---|---|---|" + "---|" * len(COLUMNS) + "---|")
    for name, rate, seconds, cpu in rows:
        cores = " | ".join(f"{cpu[c] / seconds:.2f}" if c in cpu else "" for c in COLUMNS)
        used = sum(cpu.get(c, 0.0) for c in COLUMNS[:-1])
        per_event = f"{used / (rate * seconds) * 1e6:,.0f} µs" if cpu else ""
        print(
            f"| {name} | {rate:,.0f} | {seconds:.2f} | {rate / raw_rate:.1%} | {cores} |"
            f" {per_event} |"
        )


def _print_cpu_legend(rows: list[Row]) -> None:
    print()
    print("CPU columns: cores busy on average during the stage (2 = the whole machine);")
    print("'bench' is this script (the raw clients, polling, py-spy), 'other' whatever else ran")
    print("on the machine; CPU per event counts every column but 'other'.")
    busy = [name for name, _, seconds, cpu in rows if cpu.get("other", 0.0) / seconds > 0.2]
    if busy:
        print(
            f"NOT QUIET: something else used over 0.2 cores during {len(busy)} of the stages"
            " (see 'other'): their figures are low, run again on a quiet machine."
        )


def _print_aims(figures: Figures) -> None:
    print()
    stages = figures.stages
    print(
        f"pipeline / raw = {stages['pipeline'].rate / figures.raw.rate:.1%} (aim: >= 25%);"
        f" ledger sustained = {stages['ledger'].rate:,.0f} money events/s (aim: >= 2,000/s)"
    )
    raw, raw_pg = figures.raw, figures.raw_pg
    relay, ledger = stages["relay"].rate, stages["ledger"].rate
    print(
        f"relay / raw confluent-kafka produce = {relay / raw.produce_rate:.2f};"
        f" relay / raw psycopg rows = {relay / raw_pg.rate:.2f}"
    )
    print(
        f"ledger consumer / raw confluent-kafka produce -> consume = {ledger / raw.rate:.2f};"
        f" ledger consumer / raw psycopg rows = {ledger / raw_pg.rate:.2f} (aim: >= 0.25)"
    )
    for note in figures.notes:
        print(note)


def print_security(plaintext: Figures, secured: dict[str, Stage]) -> None:
    """Each stage on the sasl_ssl broker against the same stage on plaintext in this run."""
    print()
    print("What TLS and SASL cost: the same stages on a sasl_ssl broker (SCRAM-SHA-512 over TLS,")
    print("ACLs), fresh databases, against plaintext in this run")
    print()
    print(
        "| stage | plaintext events/s | sasl_ssl events/s | sasl_ssl / plaintext |"
        " other cores, plaintext | other cores, sasl_ssl |"
    )
    print("|---|---|---|---|---|---|")
    for key, stage in secured.items():
        plain = plaintext.stages[key]
        print(
            f"| {LABELS[key]} | {plain.rate:,.0f} | {stage.rate:,.0f} |"
            f" {stage.rate / plain.rate:.2f} | {_other(plain):.2f} | {_other(stage):.2f} |"
        )
    print("('other': cores busy with whatever else ran on the machine during the stage)")


def _other(stage: Stage) -> float:
    return stage.cpu.get("other", 0.0) / stage.seconds
