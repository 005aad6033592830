"""Money events from hiring's outbox through Kafka into bonus's ledger, on PostgreSQL.

One run, same machine (2 cores shared by Kafka, PostgreSQL, the services and this script),
compared within the run:
  raw       confluent-kafka alone: an idempotent acks=all producer sends N messages (the very
            bytes, keys and headers of the pipeline's BonusAdded events) to a 6-partition
            topic; a consumer group in another process reads them all and commits offsets.
            Time from the first produce to the last message consumed; the median of 3.
  raw pg    PostgreSQL alone: the rows bonus's consumer writes for the same events (inbox,
            account, ledger entry; one commit per 500), from psycopg, no service around it.
  pipeline  the same N events staged in hiring's PostgreSQL outbox, then hiring's relay and
            bonus's consumers as real `teacher-hiring serve` processes: from the moment the
            relay may run until bonus's ledger holds all N (relay, Kafka, consumer, schema
            validation, inbox, ledger, offsets).
  relay     N more events, bonus stopped: from the moment the relay may run until every outbox
            row is marked sent (outbox -> Kafka alone).
  ledger    bonus started on that backlog: from its /ready until the ledger holds them
            (Kafka -> ledger alone, the sustained money events/s); then again with two bonus
            instances sharing the partitions.

The relay is held back while events are staged by holding its turn (the advisory lock that
several relays of one database take turns with, messaging/relay.py); letting go of it starts
the clock. Events are staged with Outbox.stage_envelope, which validates them against the
schema registry and takes the per-key lock, as a submission's transaction does. Managers
exist first, created over HTTP on exercises, so that bonus and hiring hold them in their
replicas (ManagerCreated) before any money arrives.

Then what TLS and SASL cost (--security both, the default): the pipeline, relay and ledger
stages again on a broker as the distributed deployment runs by default (SCRAM-SHA-512 over TLS,
each service its own credentials and only its topics, scripts/kafka.sh), on fresh databases,
each against the same stage on plaintext in this run, as a ratio.

Kafka (127.0.0.1:9192 plaintext, 127.0.0.1:9194 sasl_ssl) and PostgreSQL (127.0.0.1:5532), the
benchmarks' own (bench/lib/kafka_pg.py), are started with scripts/ if they do not answer, and
stopped at the end only if this run started them. Databases th_bench_<svc>_<hex>
and topics under a prefix of their own are created for the run and dropped afterwards.

Exits non-zero unless the ledger ends with exactly one entry per staged event (the money
check). Timings are reported, never asserted.

--profile: py-spy samples hiring during the relay stage and bonus during the one-instance
ledger stage, and the top functions of the working thread (wall time) and of all threads
holding the GIL are printed. Where py-spy cannot attach (no binary, no ptrace permission),

    .venv/bin/python -m bench.distributed [--events 20000] [--security both|plaintext] [--profile]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench.lib.kafka_pg import (
    PARTITIONS,
    PLAINTEXT,
    SECURED,
    KafkaAt,
    Servers,
    bench_databases,
    delete_topics,
    free_port_pair,
)
from bench.lib.pipeline import Bench, Stage, profile_in_process
from bench.lib.pipeline_report import Figures, print_report, print_security
from bench.lib.profiles import py_spy_problem
from bench.lib.raw import raw_baseline, raw_postgres
from bench.lib.records import bonus_events
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.kafka_access import grant
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.runtime.processes import SERVICES, Deployment

NewEvents = Callable[[int], list[Envelope]]
"""N fresh BonusAdded events for the run's managers, from a seed."""


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000, help="money events per stage")
    parser.add_argument("--managers", type=int, default=24, help="managers (partition keys)")
    parser.add_argument(
        "--instances", type=int, default=2, choices=(1, 2), help="also measure 2 bonus instances"
    )
    parser.add_argument("--raw-runs", type=int, default=3, help="raw runs (the median counts)")
    parser.add_argument(
        "--security",
        choices=("both", "plaintext"),
        default="both",
        help="both: the stages again on a sasl_ssl broker, as ratios to plaintext",
    )
    parser.add_argument("--profile", action="store_true", help="py-spy on hiring and bonus")
    parser.add_argument(
        "--profiler",
        choices=("py-spy", "cprofile"),
        default="py-spy",
        help="cprofile: the relay and the consumer in this process instead (py-spy's fallback)",
    )
    parser.add_argument("--top", type=int, default=12, help="functions per profile table")
    parser.add_argument("--profile-dir", type=Path, default=None, help="where py-spy writes")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    run_id = uuid.uuid4().hex[:10]
    prefix = f"bench-{run_id}."
    secured = args.security == "both"
    servers = Servers((PLAINTEXT, SECURED) if secured else (PLAINTEXT,))
    servers.ensure()
    code = 1
    try:
        with tempfile.TemporaryDirectory(prefix="th-dbench-") as tmp:
            if args.profile and args.profile_dir is None:
                args.profile_dir = Path(tempfile.mkdtemp(prefix="th-dbench-profile-"))
            with bench_databases(run_id) as databases:
                try:
                    code, figures = run(args, prefix, databases, Path(tmp))
                finally:
                    delete_topics(prefix)
            if secured:
                with bench_databases(run_id + "s") as databases:
                    try:
                        code |= run_secured(args, prefix, databases, Path(tmp), figures)
                    finally:
                        delete_topics(prefix, SECURED)
    finally:
        servers.stop()
    sys.exit(code)


def platform_on(
    kafka: KafkaAt, prefix: str, databases: dict[str, str], data_dir: Path
) -> Deployment:
    """The services' deployment on `kafka`, with each service's credentials on a secured one
    and the ACLs of the run's topics granted first, as scripts/kafka.sh grants its own."""
    deployment = Deployment(
        data_dir=data_dir,
        ports={name: free_port_pair() for name in SERVICES},
        partitions=PARTITIONS,
        database_urls=databases,
        log_url=f"kafka://{kafka.bootstrap}",
        topic_prefix=prefix,
    )
    if kafka.security != "plaintext":
        registry = SchemaRegistry.load()
        grant(kafka.bootstrap, kafka.admin_config(), registry, prefix=prefix, partitions=PARTITIONS)
        deployment.kafka_clients = kafka.service_clients()
    return deployment


def run(
    args: argparse.Namespace, prefix: str, databases: dict[str, str], tmp: Path
) -> tuple[int, Figures]:
    """Every stage on a platform of its own, the report, then the money check's verdict."""
    registry = SchemaRegistry.load()
    deployment = platform_on(PLAINTEXT, prefix, databases, tmp / "var")
    bench = Bench(deployment, registry, args)
    try:
        figures, problems = measure(bench, registry, args, prefix, databases["bonus"])
    except BaseException:
        bench.print_logs()
        raise
    finally:
        bench.close()
    print_report(args, figures, bench)
    return verdict(problems, len(bench.staged)), figures


def run_secured(
    args: argparse.Namespace,
    prefix: str,
    databases: dict[str, str],
    tmp: Path,
    plaintext: Figures,
) -> int:
    """The pipeline, relay and ledger stages on the sasl_ssl broker; the ratios to plaintext."""
    print("\nthe same stages on the sasl_ssl broker (SCRAM over TLS, ACLs)...", flush=True)
    registry = SchemaRegistry.load()
    deployment = platform_on(SECURED, prefix, databases, tmp / "var-secured")
    bench = Bench(deployment, registry, args, SECURED)
    n = args.events
    stages: dict[str, Stage] = {}
    try:
        bench.start("exercises", "hiring", "bonus")
        managers = bench.create_managers(args.managers)
        new_events: NewEvents = partial(bonus_events, registry, managers, n)
        stages["pipeline"] = pipeline_stage(bench, new_events(1), [])
        stages["relay"] = relay_stage(bench, new_events, seed=2)
        stages["ledger"] = ledger_stage(bench, n, [])
        time.sleep(2)
        problems = bench.money_check()
    except BaseException:
        bench.print_logs()
        raise
    finally:
        bench.close()
    print_security(plaintext, stages)
    return verdict(problems, len(bench.staged))


def measure(
    bench: Bench, registry: SchemaRegistry, args: argparse.Namespace, prefix: str, bonus_url: str
) -> tuple[Figures, list[str]]:
    """The raw baselines, then the stages in order; the money check's problems at the end."""
    n = args.events
    print("starting exercises, hiring and bonus (PostgreSQL, Kafka)...", flush=True)
    bench.start("exercises", "hiring", "bonus")
    managers = bench.create_managers(args.managers)
    print(f"{len(managers)} managers created on exercises, replicated to bonus", flush=True)
    why_not_py_spy = choose_profiler(bench, args)
    new_events: NewEvents = partial(bonus_events, registry, managers, n)
    pipeline_events = new_events(1)
    figures = raw_baselines(bench, registry, pipeline_events, prefix, bonus_url, args.raw_runs)
    figures.stages["pipeline"] = pipeline_stage(bench, pipeline_events, figures.notes)
    figures.stages["relay"] = relay_stage(bench, new_events, seed=2)
    figures.stages["ledger"] = ledger_stage(bench, n, figures.notes)
    if args.instances >= 2:
        figures.stages.update(two_instances_stages(bench, new_events, n, figures.notes))
    if why_not_py_spy is not None:
        profile_in_process(bench, registry, managers, n, why_not_py_spy)
    time.sleep(2)  # anything late (a redelivery) would show in the check
    return figures, bench.money_check()


def choose_profiler(bench: Bench, args: argparse.Namespace) -> str | None:
    """With --profile: why py-spy cannot be used (then cProfile is), or None if it can."""
    if not args.profile:
        return None
    why_not_py_spy = (
        "--profiler cprofile"
        if args.profiler == "cprofile"
        else py_spy_problem(bench.pid("hiring"))
    )
    bench.py_spy = why_not_py_spy is None
    return why_not_py_spy


def raw_baselines(
    bench: Bench,
    registry: SchemaRegistry,
    events: list[Envelope],
    prefix: str,
    bonus_url: str,
    raw_runs: int,
) -> Figures:
    """confluent-kafka alone (the median of `raw_runs`), then psycopg alone."""
    n = len(events)
    print("raw confluent-kafka produce -> consume of the same messages...", flush=True)
    runs = []
    for attempt in range(raw_runs):
        topic = f"{prefix}raw{attempt}.{registry.spec('BonusAdded').topic}"
        runs.append(raw_baseline(registry, events, topic, bench.meter))
        print(f"  {n:,} in {runs[-1].seconds:.2f} s = {runs[-1].rate:,.0f}/s", flush=True)
    raw = sorted(runs, key=lambda r: r.rate)[len(runs) // 2]
    print("raw PostgreSQL: the consumer's rows for the same events, psycopg alone...")
    raw_pg = raw_postgres(bonus_url, events, bench.meter)
    print(f"  {n:,} in {raw_pg.seconds:.2f} s = {raw_pg.rate:,.0f}/s", flush=True)
    note = "raw: the median of " + ", ".join(f"{r.rate:,.0f}" for r in runs) + " messages/s"
    return Figures(raw, raw_pg, notes=[note])


def pipeline_stage(bench: Bench, events: list[Envelope], notes: list[str]) -> Stage:
    """Outbox -> relay -> Kafka -> bonus's consumer -> ledger, everything up."""
    n = len(events)
    print("pipeline: outbox -> relay -> Kafka -> bonus's consumer -> ledger...", flush=True)
    bench.stage_held(events)
    time.sleep(1)  # let the staging's writes settle before the clock starts
    first_id = bench.last_ledger_id()
    stage = bench.measure("pipeline", n, lambda: bench.ledger_holds(n), release=True)
    first, _ = bench.ledger_span(first_id)
    notes.append(
        f"pipeline: the first event reached the ledger"
        f" {first - stage.started_at:.2f} s after the relay was let go"
    )
    return stage


def relay_stage(bench: Bench, new_events: NewEvents, seed: int) -> Stage:
    """Outbox -> Kafka alone, bonus stopped (its events wait on Kafka for the ledger stage)."""
    print("relay alone (bonus stopped): outbox -> Kafka...", flush=True)
    bench.stop("bonus")
    events = new_events(seed)
    bench.stage_held(events)
    time.sleep(1)
    return bench.measure(
        "relay", len(events), bench.all_sent, release=True, profile=("hiring", "hiring-relay")
    )


def ledger_stage(bench: Bench, n: int, notes: list[str]) -> Stage:
    """One bonus instance started on the relay stage's backlog: Kafka -> ledger alone."""
    print("ledger alone, one bonus instance: Kafka backlog -> ledger...", flush=True)
    before_id = bench.last_ledger_id()
    restarted = time.perf_counter()
    bench.processes["bonus"].start()
    bench.processes["bonus"].wait_ready(90)
    ready_s = time.perf_counter() - restarted
    ready = bench.mark()
    stage = bench.measure(
        "ledger, 1 instance",
        2 * n - ready.ledger,
        lambda: bench.ledger_holds(2 * n),
        since=ready,
        profile=("bonus", "bonus-bonus.money"),
    )
    first, last = bench.ledger_span(before_id)
    notes.append(
        f"ledger, 1 instance: {ready_s:.2f} s from start to /ready, when"
        f" {ready.ledger - n:,} events were applied already (not timed); first entry"
        f" {first - ready.wall:+.2f} s from /ready; first to last entry"
        f" {n / (last - first):,.0f} events/s"
    )
    return stage


def two_instances_stages(
    bench: Bench, new_events: NewEvents, n: int, notes: list[str]
) -> dict[str, Stage]:
    """The relay again with bonus stopped, then two bonus instances sharing the partitions."""
    print("ledger alone, two bonus instances...", flush=True)
    bench.stop("bonus")
    bench.stage_held(new_events(3))
    time.sleep(1)
    relay = bench.measure("relay (again)", n, bench.all_sent, release=True)
    before_id = bench.last_ledger_id()
    bench.processes["bonus"].start()
    bench.processes["bonus-2"].start()
    bench.processes["bonus"].wait_ready(90)
    ready = bench.mark()  # from the first instance's /ready
    bench.processes["bonus-2"].wait_ready(90)
    ledger = bench.measure(
        "ledger, 2 instances",
        3 * n - ready.ledger,
        lambda: bench.ledger_holds(3 * n),
        since=ready,
    )
    first, last = bench.ledger_span(before_id)
    notes.append(
        f"ledger, 2 instances: timed from the first /ready, when {ready.ledger - 2 * n:,}"
        f" events were applied already; first to last entry {n / (last - first):,.0f}"
        " events/s"
    )
    return {"relay2": relay, "ledger2": ledger}


def verdict(problems: list[str], staged: int) -> int:
    """The money check: 0 when the ledger holds exactly one entry per staged event."""
    if problems:
        print("\nMONEY CHECK FAILED: " + "; ".join(problems))
        return 1
    print(
        f"\nmoney check: the ledger holds exactly {staged:,} entries, one per staged"
        " event, with its amount; bonus.money's inbox as many; nothing dead-lettered"
    )
    return 0


if __name__ == "__main__":
    main()
