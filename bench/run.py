"""`make bench`: the business problems measured, `before` against `after`, in one run.

Starts the platform on fresh data (embedded by default, `--distributed` for Kafka and
PostgreSQL), registers every candidate first (an exercise leaks at its 11th completion and is
then assigned to nobody), then runs the sections in order and writes docs/benchmarks.md with
its figures under docs/benchmarks/:
  latency    Problem-010/050/080, 060, 070/100: before and after, all up / bonus down /
             exercises down, open loop at --rate for --seconds each;
  freshness  Problem-020: save to served, exercise-updates push and event;
  capacity   Problem-040: the highest rate with p99 under --p99-ms (a step search);
  outage     Problem-040: bonus down --outage seconds under that rate, the drain after;
  peers      bonus's ledger consumer against FastStream and the raw clients (always on
             Kafka + PostgreSQL, started with scripts/).
Then each goal with its measured value, met or missed. Exits 1 if the ledger of `after` shows
a duplicate or a loss.

    .venv/bin/python -m bench [--quick] [--distributed] [--only latency,outage] [--outage 120]
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.lib import problems, report
from bench.lib.platform_under_test import Workload, running

SECTIONS = ("latency", "freshness", "capacity", "outage", "peers")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short phases (~2-3 min)")
    parser.add_argument("--distributed", action="store_true", help="Kafka + PostgreSQL")
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections, comma-separated")
    parser.add_argument("--rate", type=float, default=300.0, help="submissions/s, latency rows")
    parser.add_argument("--seconds", type=float, help="length of a latency row [20; quick 4]")
    parser.add_argument(
        "--steps", help="offered rates of the capacity search [100,200,...,800; quick fewer]"
    )
    parser.add_argument("--step-seconds", type=float, help="length of a step [8; quick 3]")
    parser.add_argument("--p99-ms", type=float, default=50.0, help="capacity's p99 limit")
    parser.add_argument("--outage", type=float, help="seconds bonus is down [120; quick 10]")
    parser.add_argument("--saves", type=int, help="saves per exercise-updates mode [100; quick 20]")
    parser.add_argument("--peer-events", type=int, help="events of the peers [10000; quick 3000]")
    parser.add_argument("--managers", type=int, default=10)
    parser.add_argument("--exercises", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--profile", action="store_true", help="py-spy on hiring during the `all up` rows"
    )
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/ alone")
    args = parser.parse_args(argv)
    quick = args.quick
    args.seconds = args.seconds or (4.0 if quick else 20.0)
    args.step_seconds = args.step_seconds or (3.0 if quick else 8.0)
    args.outage = args.outage if args.outage is not None else (10.0 if quick else 120.0)
    args.saves = args.saves or (20 if quick else 100)
    args.peer_events = args.peer_events or (3000 if quick else 10000)
    default_steps = "150,300,450,600" if quick else "100,200,300,400,500,600,800"
    args.steps = [float(s) for s in (args.steps or default_steps).split(",")]
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"--only: unknown sections {sorted(unknown)} (known: {', '.join(SECTIONS)})")
    return args


def outage_windows(args: argparse.Namespace) -> tuple[float, float]:
    """Load before the outage, and after bonus is back (time to drain and be seen drained)."""
    return (3.0 if args.quick else 10.0), max(8.0, args.outage / 2)


def submissions_needed(args: argparse.Namespace) -> int:
    needed = 0
    if "latency" in args.only:
        warm_up = 2 * args.rate * min(args.seconds, problems.WARM_UP_S)  # one per wiring
        needed += int(6 * args.rate * args.seconds + warm_up)
    if "capacity" in args.only:
        refined = problems.REFINE_STEPS * max(args.steps)  # the halvings, at most this fast
        needed += int((sum(args.steps) + refined) * args.step_seconds)
    if "outage" in args.only:
        before_s, after_s = outage_windows(args)
        needed += int(max(args.steps) * (before_s + args.outage + after_s))
    return needed


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    command = "make bench" + (
        f" ARGS={shlex.quote(' '.join(sys.argv[1:]))}" if sys.argv[1:] else ""
    )
    started = time.perf_counter()
    deployment = "Kafka + PostgreSQL" if args.distributed else "embedded (SQLite + embedded log)"
    results = report.Results(command, deployment, args.rate, args.seconds, p99_limit_ms=args.p99_ms)
    platform_sections = [s for s in args.only if s != "peers"]
    if platform_sections:
        print(f"starting the platform, {deployment}...", flush=True)
        with running(distributed=args.distributed) as target:
            workload = Workload(target, seed=args.seed)
            workload.setup(args.managers, args.exercises)
            needed = submissions_needed(args)
            print(f"registering candidates for {needed:,} submissions...", flush=True)
            t0 = time.perf_counter()
            workload.register(needed)
            print(f"  done in {time.perf_counter() - t0:.1f} s", flush=True)
            target.wait_for_ledger()
            # Exercises reads every CandidateCreated of the registration: measured rows must
            # not share the machine with that.
            waited = target.wait_until_caught_up(900)
            print(f"  consumers caught up {waited:.1f} s later", flush=True)
            run_sections(args, results, target, workload)
    if "peers" in args.only:
        from bench.lib.peers import compare

        print(f"peers: {args.peer_events:,} money events on Kafka + PostgreSQL...", flush=True)
        results.peers = compare(args.peer_events)
    results.seconds = time.perf_counter() - started
    report.print_goals(results)
    if not args.no_write:
        print(f"\nwrote {report.write(results)}")
    after = results.run("after")
    if after is not None and any(problems.ledger_faults(after.reconciliation)):
        print("THE LEDGER OF `after` SHOWS A DUPLICATE OR A LOSS")
        return 1
    return 0


def run_sections(
    args: argparse.Namespace, results: report.Results, target: Any, workload: Workload
) -> None:
    if "latency" in args.only:
        print(f"latency: {args.rate:.0f}/s open loop, {args.seconds:.0f} s per row", flush=True)
        profile_dir = Path(tempfile.mkdtemp(prefix="th-bench-profile-")) if args.profile else None
        results.latency = problems.latency(target, workload, args.rate, args.seconds, profile_dir)
        for run in results.latency:
            if run.profile:
                print("\n".join(run.profile), flush=True)
    if "capacity" in args.only or "outage" in args.only:
        if "capacity" in args.only:
            print(f"capacity: steps {args.steps}, {args.step_seconds:.0f} s each", flush=True)
            results.capacity = problems.capacity(
                target, workload, args.steps, args.step_seconds, args.p99_ms
            )
            sustained = results.capacity.sustained or args.steps[0]
        else:
            sustained = args.rate
        if "outage" in args.only:
            before_s, after_s = outage_windows(args)
            print(f"outage: bonus down {args.outage:.0f} s at {sustained:.0f}/s", flush=True)
            results.outage = problems.outage(
                target, workload, sustained, args.outage, before_s, after_s
            )
    if "freshness" in args.only:
        print(f"freshness: {args.saves} saves per mode", flush=True)
        results.freshness = problems.freshness(target, workload, args.saves)
