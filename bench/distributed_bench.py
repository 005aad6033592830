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

Kafka (127.0.0.1:9092) and PostgreSQL (127.0.0.1:5432) are started with scripts/ if they do
not answer, and stopped at the end only if this run started them. Databases th_bench_<svc>_<hex>
and topics under a prefix of their own are created for the run and dropped afterwards.

Exits non-zero unless the ledger ends with exactly one entry per staged event (the money
check). Timings are reported, never asserted.

--profile: py-spy samples hiring during the relay stage and bonus during the one-instance
ledger stage, and the top functions of the working thread (wall time) and of all threads
holding the GIL are printed. Where py-spy cannot attach (no binary, no ptrace permission),
the relay and the money consumer run once more inside this script under cProfile instead.

    .venv/bin/python -m bench.distributed_bench [--events 20000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import pstats
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import sqlalchemy as sa
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from psycopg.types.json import Jsonb

from teacher_hiring.bonus.entrypoints.consumers import MONEY_GROUP
from teacher_hiring.bonus.entrypoints.consumers import subscriptions as bonus_subscriptions
from teacher_hiring.foundation.time import now_rfc3339
from teacher_hiring.messaging.consumer import ConsumerRunner
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.relay import RELAY_LOCK, OutboxRelay
from teacher_hiring.messaging.sinks import LogSink
from teacher_hiring.messaging.wire import RecordCodec
from teacher_hiring.runtime.db import make_engine
from teacher_hiring.runtime.processes import SERVICES, Deployment, ServiceProcess
from teacher_hiring.runtime.tokens import Role, Tokens
from teacher_hiring.runtime.transports import make_transport

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
KAFKA = "127.0.0.1:9092"
PG_PORT = 5432
ROLE = "teacher_hiring"
KAFKA_PIDFILE = Path("/tmp/teacher-hiring-kafka/kafka.pid")  # scripts/kafka.sh's default
PG_PIDFILE = Path("/tmp/teacher-hiring-pg/data/postmaster.pid")  # scripts/postgres.sh's
PARTITIONS = 6
STAGE_TRANSACTION = 1000  # events staged per outbox transaction
POLL_S = 0.02  # how often the end of a stage is looked for


def pg_url(database: str) -> str:
    return f"postgresql+psycopg://{ROLE}@127.0.0.1:{PG_PORT}/{database}"


# -- servers, databases, topics ----------------------------------------------------------------


def _script_env() -> dict[str, str]:
    """The scripts' defaults (9092, 5432), whatever the caller's environment says: the tests
    run their own servers on other ports, and this run must not touch them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TH_PG_", "TH_KAFKA_"))}
    env["TH_PYTHON"] = sys.executable
    return env


@dataclass
class Servers:
    """Kafka and PostgreSQL: started if they do not answer, stopped only if started here."""

    started: list[str] = field(default_factory=list)

    def ensure(self) -> None:
        for script in ("kafka.sh", "postgres.sh"):
            if self._run(script, "status").returncode == 0:
                print(f"{script.removesuffix('.sh')}: already running, left running at the end")
                continue
            print(f"{script.removesuffix('.sh')}: starting ({script} start)...", flush=True)
            done = self._run(script, "start")
            if done.returncode != 0:
                raise SystemExit(f"{script} start failed ({done.returncode}):\n{done.stderr}")
            self.started.append(script)

    def stop(self) -> None:
        for script in reversed(self.started):
            self._run(script, "stop")
            print(f"{script.removesuffix('.sh')}: stopped (this run started it)")

    @staticmethod
    def _run(script: str, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPTS / script), command],
            env=_script_env(),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )


@contextmanager
def bench_databases(run_id: str, services: Sequence[str] = SERVICES) -> Iterator[dict[str, str]]:
    """One fresh database per service (or per name given), owned by the services' role,
    dropped at the end.

    Created as the tests create theirs (tests/integration/postgres_server.py): the role of
    scripts/postgres.sh may create databases, on the maintenance database, outside a transaction.
    """
    admin = sa.create_engine(
        pg_url("postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
    )
    names = {service: f"th_bench_{service}_{run_id}" for service in services}
    try:
        with admin.connect() as conn:
            for name in names.values():
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" OWNER {ROLE}')
        yield {service: pg_url(name) for service, name in names.items()}
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _admin() -> AdminClient:
    return AdminClient({"bootstrap.servers": KAFKA, "allow.auto.create.topics": False})


def create_topic(name: str) -> None:
    admin = _admin()  # kept referenced until the futures are done
    futures = admin.create_topics([NewTopic(name, PARTITIONS, -1)], operation_timeout=30)
    for future in futures.values():
        future.result()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        topic = admin.list_topics(name, timeout=10).topics.get(name)
        if topic is not None and topic.error is None and len(topic.partitions) == PARTITIONS:
            return
        time.sleep(0.05)
    raise TimeoutError(f"topic {name} not in the metadata")


def delete_topics(prefix: str) -> None:
    admin = _admin()
    names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result()


def message_count(topic: str) -> int:
    """Messages in a topic (its end offsets; the dead-letter topic must have none)."""
    admin = _admin()
    metadata = admin.list_topics(topic, timeout=10).topics.get(topic)
    if metadata is None or metadata.error is not None:
        return 0
    consumer = Consumer({"bootstrap.servers": KAFKA, "group.id": "bench-watermarks"})
    try:
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            - consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[0]
            for p in metadata.partitions
        )
    finally:
        consumer.close()


def free_port_pair() -> int:
    """A port free together with the one 10 above it (a second instance listens there)."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + 10 < 65536:
            with socket.socket() as other:
                try:
                    other.bind(("127.0.0.1", port + 10))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free pair of ports")


# -- the events ----------------------------------------------------------------------------------


def bonus_events(
    registry: SchemaRegistry, managers: Sequence[str], n: int, seed: int
) -> list[Envelope]:
    """N valid BonusAdded envelopes as hiring builds them, for the given managers."""
    rng = random.Random(seed)
    version = Outbox(registry, producer="hiring").version_of("BonusAdded")
    events = []
    for _ in range(n):
        rating = rng.randrange(0, 101)
        payload = {
            "manager_id": rng.choice(managers),
            "amount_cents": 1000 * (100 + rating) // 100,
            "submission_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "candidate_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "exercise_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "exercise_version": 1,
            "completion_number": rng.randrange(1, 11),
            "rating": rating,
            "rating_version": rng.randrange(0, 20),
            "occurred_at": now_rfc3339(),
        }
        envelope = Envelope.new("BonusAdded", version, payload, producer="hiring")
        registry.validate(envelope.as_dict())
        events.append(envelope)
    return events


def stage(engine: sa.Engine, outbox: Outbox, events: Sequence[Envelope]) -> float:
    """Write the events to the outbox in transactions of STAGE_TRANSACTION; seconds taken."""
    started = time.perf_counter()
    for start in range(0, len(events), STAGE_TRANSACTION):
        with engine.begin() as conn:
            for envelope in events[start : start + STAGE_TRANSACTION]:
                outbox.stage_envelope(conn, envelope)
    return time.perf_counter() - started


# -- the raw client baseline ----------------------------------------------------------------------


def _producer_config() -> dict[str, Any]:
    """As messaging/kafka.py's producer."""
    return {
        "bootstrap.servers": KAFKA,
        "client.id": "bench-raw",
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "partitioner": "consistent",
        "message.timeout.ms": 30_000,
    }


def _raw_consumer(topic: str, group: str, expected: int, queue: Any, leave: Any) -> None:
    """Child process: a group member reading `expected` messages, committing each poll's
    offsets synchronously (as the consumer runner does after its database commit)."""
    assigned: list[int] = []
    consumer = Consumer(
        {
            "bootstrap.servers": KAFKA,
            "client.id": "bench-raw",
            "group.id": group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "partition.assignment.strategy": "cooperative-sticky",
        }
    )
    consumer.subscribe(
        [topic], on_assign=lambda _c, partitions: assigned.extend(p.partition for p in partitions)
    )
    while len(set(assigned)) < PARTITIONS:
        consumer.poll(0.05)
    queue.put(("ready", 0.0, 0))
    count = 0
    last = 0.0
    deadline = time.monotonic() + 600
    while count < expected and time.monotonic() < deadline:
        messages = consumer.consume(500, 0.1)
        offsets: dict[int, int] = {}
        for message in messages:
            if message.error() is None:
                count += 1
                offsets[message.partition() or 0] = (message.offset() or 0) + 1
        if offsets:
            consumer.commit(
                offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()],
                asynchronous=False,
            )
            last = time.monotonic()
    consumer.close()
    queue.put(("done", last, count))
    leave.wait(60)  # alive until the parent has read this process's CPU time


@dataclass
class RawResult:
    messages: int
    seconds: float
    produce_seconds: float
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def produce_rate(self) -> float:
        return self.messages / self.produce_seconds


def records_of(
    registry: SchemaRegistry, events: Sequence[Envelope]
) -> list[tuple[bytes, bytes, dict[str, str | bytes | None]]]:
    """(key, value, headers) of each event as hiring's relay sends it: the partition key, and
    the body and headers messaging.wire lays the event out in (LogSink does the same)."""
    codec = RecordCodec(registry)
    records = []
    for e in events:
        value, headers = codec.encode(e)
        key = registry.partition_key(e.event_name, e.payload).encode()
        records.append((key, value, dict[str, str | bytes | None](headers)))
    return records


def raw_baseline(
    registry: SchemaRegistry, events: Sequence[Envelope], topic: str, meter: CpuMeter
) -> RawResult:
    """The pipeline's messages, produced and consumed with confluent-kafka and nothing else;
    a topic and a consumer group of their own."""
    create_topic(topic)
    messages = records_of(registry, events)
    context = multiprocessing.get_context("spawn")
    queue, leave = context.Queue(), context.Event()
    child = context.Process(
        target=_raw_consumer,
        args=(topic, f"{topic}.group", len(messages), queue, leave),
        daemon=True,
    )
    child.start()
    if queue.get(timeout=60)[0] != "ready":
        raise RuntimeError("the raw consumer did not join its group")
    producer = Producer(_producer_config())
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            failures.append(error)

    before = meter.snapshot()
    started = time.monotonic()
    for key, value, headers in messages:
        while True:
            try:
                producer.produce(topic, value, key, on_delivery=delivered, headers=headers)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    left = producer.flush(60)
    produced = time.monotonic()
    _, last, count = queue.get(timeout=600)
    cpu = CpuMeter.since(before, meter.snapshot())  # a little after the last message
    leave.set()
    child.join(30)
    if left or failures or count != len(messages):
        raise RuntimeError(f"raw baseline: {left} undelivered, {failures[:1]}, {count} consumed")
    return RawResult(len(messages), last - started, produced - started, cpu)


def raw_postgres(url: str, events: Sequence[Envelope], meter: CpuMeter) -> RawResult:
    """PostgreSQL alone: the rows bonus's consumer writes for the events (one inbox statement
    per 500, then each event's account and ledger entry in one statement, one commit per 500),
    from psycopg without the service around it, into copies of bonus's tables."""
    names = ("inbox", "accounts", "ledger")
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        for name in names:
            conn.execute(f"CREATE TABLE raw_{name} (LIKE {name} INCLUDING ALL)")
        before = meter.snapshot()
        started = time.perf_counter()
        for start in range(0, len(events), 500):
            chunk = events[start : start + 500]
            with conn.transaction():
                conn.execute(
                    "INSERT INTO raw_inbox SELECT 'bonus.money', e, 'BonusAdded', %s"
                    " FROM unnest(%s::text[]) AS e ON CONFLICT DO NOTHING",
                    (time.time(), [e.event_id for e in chunk]),
                )
                for e in chunk:
                    p, now = e.payload, now_rfc3339()
                    conn.execute(
                        "WITH opened AS (INSERT INTO raw_accounts VALUES (%s, %s)"
                        " ON CONFLICT DO NOTHING) INSERT INTO raw_ledger (manager_id, kind,"
                        " amount_cents, business_key, source_event_id, source_event_name,"
                        " source_producer, trace_id, occurred_at, recorded_at, details)"
                        " VALUES (%s, 'bonus', %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                        " ON CONFLICT (business_key) DO NOTHING",
                        (
                            p["manager_id"],
                            now,
                            p["manager_id"],
                            p["amount_cents"],
                            f"bonus:{p['submission_id']}",
                            e.event_id,
                            e.event_name,
                            e.producer,
                            e.trace_id,
                            p["occurred_at"],
                            now,
                            Jsonb({k: v for k, v in p.items() if k != "manager_id"}),
                        ),
                    )
        seconds = time.perf_counter() - started
        cpu = CpuMeter.since(before, meter.snapshot())
        for name in names:
            conn.execute(f"DROP TABLE raw_{name}")
    return RawResult(len(events), seconds, seconds, cpu)


# -- CPU per component -----------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float | None:
    """CPU seconds (user + system) a process has spent so far; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def _pid_from(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _machine_busy() -> float:
    """CPU-seconds the whole machine spent busy (every core)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / _TICKS


@dataclass
class CpuMeter:
    """CPU-seconds of each component over a stage: the services, Kafka, PostgreSQL, the rest."""

    services: dict[str, ServiceProcess]

    def pids(self) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {}
        for label, process in self.services.items():
            if process.process is not None and process.running():
                groups.setdefault(label.split("-")[0], []).append(process.process.pid)
        services = {pid for pids in groups.values() for pid in pids}
        # This script, and py-spy when it runs (both children of this process).
        mine = [pid for pid in _children(os.getpid()) if pid not in services]
        groups["bench"] = [os.getpid(), *mine]
        kafka = _pid_from(KAFKA_PIDFILE)
        if kafka:
            groups["kafka"] = [kafka]
        postmaster = _pid_from(PG_PIDFILE)
        if postmaster:
            groups["postgres"] = [postmaster, *_children(postmaster)]
        return groups

    def snapshot(self) -> tuple[dict[str, dict[int, float]], float]:
        taken = {
            group: {pid: cpu for pid in pids if (cpu := cpu_of(pid)) is not None}
            for group, pids in self.pids().items()
        }
        return taken, _machine_busy()

    @staticmethod
    def since(
        before: tuple[dict[str, dict[int, float]], float],
        after: tuple[dict[str, dict[int, float]], float],
    ) -> dict[str, float]:
        used = {
            group: sum(cpu - before[0].get(group, {}).get(pid, 0.0) for pid, cpu in pids.items())
            for group, pids in after[0].items()
        }
        used["other"] = max(0.0, after[1] - before[1] - sum(used.values()))
        used["machine"] = after[1] - before[1]
        return used


# -- profiles --------------------------------------------------------------------------------------


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


# -- the platform ----------------------------------------------------------------------------------


@dataclass
class Mark:
    perf: float
    wall: float
    cpu: tuple[dict[str, dict[int, float]], float]
    ledger: int


@dataclass
class Stage:
    name: str
    events: int
    seconds: float
    cpu: dict[str, float]
    started_at: float  # wall clock

    @property
    def rate(self) -> float:
        return self.events / self.seconds


class Bench:
    def __init__(self, deployment: Deployment, registry: SchemaRegistry, args: Any) -> None:
        self.deployment = deployment
        self.registry = registry
        self.args = args
        self.processes = {
            "exercises": ServiceProcess("exercises", deployment),
            "hiring": ServiceProcess("hiring", deployment),
            "bonus": ServiceProcess("bonus", deployment),
            "bonus-2": ServiceProcess("bonus", deployment, instance=1),
        }
        self.hiring_db = sa.create_engine(deployment.database_url("hiring"), pool_size=2)
        self.bonus_db = sa.create_engine(
            deployment.database_url("bonus"), isolation_level="AUTOCOMMIT", pool_size=1
        )
        self.outbox = Outbox(registry, producer="hiring")
        self.meter = CpuMeter(self.processes)
        self.staged: list[Envelope] = []
        self.profiles: list[Profile] = []
        self.cprofiles: list[list[str]] = []
        self.py_spy = False  # set once py-spy is known to sample these processes
        self._turn: sa.Connection | None = None

    def start(self, *labels: str) -> None:
        for label in labels:
            self.processes[label].start()
        for label in labels:
            self.processes[label].wait_ready(90)

    def stop(self, *labels: str) -> None:
        for label in labels:
            self.processes[label].stop()

    def print_logs(self, lines: int = 40) -> None:
        """The end of each service's log (they go with the temporary folder)."""
        for path in sorted((self.deployment.data_dir / "logs").glob("*.log")):
            print(f"--- {path.name}, last {lines} lines", file=sys.stderr)
            print(
                "\n".join(path.read_text(errors="replace").splitlines()[-lines:]), file=sys.stderr
            )

    def close(self) -> None:
        self.release_relay()
        for process in self.processes.values():
            process.stop()
        self.hiring_db.dispose()
        self.bonus_db.dispose()

    # -- setup --

    def create_managers(self, count: int) -> list[str]:
        """Over HTTP on exercises; waits until bonus's replica holds them all (ManagerCreated)."""
        url = self.processes["exercises"].url
        operator = Tokens(self.deployment.auth_secret).mint(Role.operator, "bench", 3600)
        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {operator}"}) as client:
            ids = []
            for i in range(count):
                body = {
                    "first_name": "Bench",
                    "last_name": f"Manager {i}",
                    "email": f"m{i}@bench.example",
                }
                response = client.post(url + "/managers", json=body)
                response.raise_for_status()
                ids.append(str(response.json()["id"]))
        query = sa.text("SELECT count(*) FROM managers m JOIN accounts a USING (manager_id)")
        self._wait(lambda: self._scalar(self.bonus_db, query) >= count, 60, "bonus's replica")
        return ids

    # -- the relay's turn --

    def hold_relay(self) -> None:
        """Take the relay's turn lock (session level): hiring's relay skips every pass."""
        if self._turn is None:
            self._turn = self.hiring_db.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._turn.execute(
                sa.text("SELECT pg_advisory_lock(CAST(:k AS bigint))"), {"k": RELAY_LOCK}
            )

    def release_relay(self) -> None:
        if self._turn is not None:
            self._turn.execute(
                sa.text("SELECT pg_advisory_unlock(CAST(:k AS bigint))"), {"k": RELAY_LOCK}
            )
            self._turn.close()
            self._turn = None

    def stage_held(self, events: Sequence[Envelope]) -> None:
        self.hold_relay()
        seconds = stage(self.hiring_db, self.outbox, events)
        self.staged.extend(events)
        print(f"  staged {len(events):,} events in hiring's outbox in {seconds:.1f} s", flush=True)

    # -- measurements --

    def ledger_count(self) -> int:
        return self._scalar(self.bonus_db, sa.text("SELECT count(*) FROM ledger"))

    def ledger_holds(self, total: int) -> bool:
        """Whether the ledger holds `total` entries. Polled every POLL_S, so cheap: the
        highest id (an index lookup) first, counting the entries only once it is that far
        (ids are never fewer than entries: a conflicting or rolled back insert uses one too).
        A count on every poll would cost PostgreSQL a large share of a core."""
        highest = self._scalar(self.bonus_db, sa.text("SELECT coalesce(max(id), 0) FROM ledger"))
        return highest >= total and self.ledger_count() >= total

    def all_sent(self) -> bool:
        """Whether no outbox row is left unsent (stops at the first one found)."""
        query = sa.text("SELECT NOT EXISTS (SELECT 1 FROM outbox WHERE sent_at IS NULL)")
        with self.hiring_db.connect() as conn:
            return bool(conn.execute(query).scalar_one())

    def mark(self) -> Mark:
        """Where a stage starts: the clocks, the CPU counters and the ledger's size."""
        return Mark(time.perf_counter(), time.time(), self.meter.snapshot(), self.ledger_count())

    def measure(
        self,
        name: str,
        target: int,
        done: Callable[[], bool],
        *,
        since: Mark | None = None,
        release: bool = False,
        profile: tuple[str, str] | None = None,
    ) -> Stage:
        """From `since` (default: now, and let go of the relay if `release`) until done();
        CPU per component meanwhile; py-spy on `profile` = (process label, thread name) with
        --profile. `target` is the number of events the stage moves."""
        spy = None
        if profile is not None and self.py_spy:
            label, thread = profile
            spy = Profile(label, self.pid(label), thread, self.args.profile_dir)
            spy.start()
            self.profiles.append(spy)
        start = since or self.mark()
        if release:
            self.release_relay()
        self._wait(done, max(180.0, target / 50), name)
        seconds = time.perf_counter() - start.perf
        cpu = CpuMeter.since(start.cpu, self.meter.snapshot())
        if spy is not None:
            spy.stop()
        result = Stage(name, target, seconds, cpu, start.wall)
        print(f"  {name}: {target:,} events in {seconds:.2f} s = {result.rate:,.0f}/s", flush=True)
        return result

    def pid(self, label: str) -> int:
        process = self.processes[label].process
        assert process is not None
        return process.pid

    def ledger_span(self, after_id: int) -> tuple[float, float]:
        """Wall-clock times of the first and last entry recorded after `after_id`."""
        query = sa.text("SELECT min(recorded_at), max(recorded_at) FROM ledger WHERE id > :i")
        with self.bonus_db.connect() as conn:
            first, last = conn.execute(query, {"i": after_id}).one()
        return _epoch(first), _epoch(last)

    def last_ledger_id(self) -> int:
        return self._scalar(self.bonus_db, sa.text("SELECT coalesce(max(id), 0) FROM ledger"))

    @staticmethod
    def _scalar(engine: sa.Engine, query: sa.TextClause) -> int:
        with engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    @staticmethod
    def _wait(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not done after {timeout_s:.0f} s")
            time.sleep(POLL_S)

    # -- the money check --

    def money_check(self) -> list[str]:
        """Every staged event is exactly one ledger entry with its amount; nothing dead-lettered."""
        problems = []
        with self.bonus_db.connect() as conn:
            rows = conn.execute(sa.text("SELECT source_event_id, amount_cents FROM ledger")).all()
            inbox = int(
                conn.execute(
                    sa.text("SELECT count(*) FROM inbox WHERE consumer = 'bonus.money'")
                ).scalar_one()
            )
        expected = {e.event_id: e.payload["amount_cents"] for e in self.staged}
        found = Counter(row[0] for row in rows)
        doubled = [event_id for event_id, n in found.items() if n > 1]
        missing = set(expected) - set(found)
        foreign = set(found) - set(expected)
        wrong = [row[0] for row in rows if row[0] in expected and row[1] != expected[row[0]]]
        if len(rows) != len(expected):
            problems.append(f"ledger holds {len(rows):,} entries, {len(expected):,} staged")
        if doubled or missing or foreign or wrong:
            problems.append(
                f"{len(doubled)} doubled, {len(missing)} missing, {len(foreign)} unknown,"
                f" {len(wrong)} with a wrong amount"
            )
        if sum(r[1] for r in rows) != sum(expected.values()):
            problems.append("the ledger's sum differs from the staged amounts")
        if inbox != len(expected):
            problems.append(f"bonus.money's inbox holds {inbox:,} events, {len(expected):,} staged")
        dlq = message_count(f"{self.deployment.topic_prefix}money.dlq")
        if dlq:
            problems.append(f"{dlq} records dead-lettered on money.dlq")
        return problems


def profile_in_process(
    bench: Bench, registry: SchemaRegistry, managers: Sequence[str], n: int, why: str
) -> None:
    """Without py-spy: the relay and bonus's money consumer run in this process under cProfile,
    on events of their own, hiring and bonus stopped meanwhile (not timed, not in the table)."""
    print(f"profiling in this process with cProfile (py-spy unusable: {why})...", flush=True)
    deployment = bench.deployment
    labels = [label for label, p in bench.processes.items() if p.running() and label != "exercises"]
    bench.stop(*labels)
    bench.stage_held(bonus_events(registry, managers, n, seed=4))
    bench.release_relay()
    transport = make_transport(
        deployment.event_log_url(), partitions=PARTITIONS, topic_prefix=deployment.topic_prefix
    )
    hiring = make_engine(deployment.database_url("hiring"))
    relay = OutboxRelay(hiring, LogSink(transport.producer(), registry), service="hiring")
    profile = cProfile.Profile()
    profile.enable()
    while not bench.all_sent():
        relay.run_once()
    profile.disable()
    title = f"relay (hiring's OutboxRelay in this process, cProfile: {why})"
    bench.cprofiles.append(cprofile_report(title, profile, bench.args.top))
    bonus = make_engine(deployment.database_url("bonus"))
    money = next(s for s in bonus_subscriptions() if s.group == MONEY_GROUP)
    runner = ConsumerRunner("bonus", money, transport, registry, bonus)
    runner.start()
    profile = cProfile.Profile()
    profile.enable()
    while not bench.ledger_holds(len(bench.staged)):
        runner.run_once()
    profile.disable()
    runner.close()
    title = f"bonus's money consumer (ConsumerRunner in this process, cProfile: {why})"
    bench.cprofiles.append(cprofile_report(title, profile, bench.args.top))
    for engine in (hiring, bonus):
        engine.dispose()
    transport.close()
    bench.start(*labels)


def _epoch(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339).replace(tzinfo=UTC).timestamp()


# -- the run ---------------------------------------------------------------------------------------


def run(args: Any, prefix: str, databases: dict[str, str], tmp: Path) -> int:
    registry = SchemaRegistry.load()
    deployment = Deployment(
        data_dir=tmp / "var",
        ports={name: free_port_pair() for name in SERVICES},
        partitions=PARTITIONS,
        database_urls=databases,
        log_url=f"kafka://{KAFKA}",
        topic_prefix=prefix,
    )
    bench = Bench(deployment, registry, args)
    n = args.events
    stages: dict[str, Stage] = {}
    notes: list[str] = []
    try:
        print("starting exercises, hiring and bonus (PostgreSQL, Kafka)...", flush=True)
        bench.start("exercises", "hiring", "bonus")
        managers = bench.create_managers(args.managers)
        print(f"{len(managers)} managers created on exercises, replicated to bonus", flush=True)
        why_not_py_spy = None
        if args.profile:
            why_not_py_spy = (
                "--profiler cprofile"
                if args.profiler == "cprofile"
                else py_spy_problem(bench.pid("hiring"))
            )
            bench.py_spy = why_not_py_spy is None
        pipeline_events = bonus_events(registry, managers, n, seed=1)

        print("raw confluent-kafka produce -> consume of the same messages...", flush=True)
        runs = []
        for attempt in range(args.raw_runs):
            topic = f"{prefix}raw{attempt}.{registry.spec('BonusAdded').topic}"
            runs.append(raw_baseline(registry, pipeline_events, topic, bench.meter))
            print(f"  {n:,} in {runs[-1].seconds:.2f} s = {runs[-1].rate:,.0f}/s", flush=True)
        raw = sorted(runs, key=lambda r: r.rate)[len(runs) // 2]
        print("raw PostgreSQL: the consumer's rows for the same events, psycopg alone...")
        raw_pg = raw_postgres(databases["bonus"], pipeline_events, bench.meter)
        print(f"  {n:,} in {raw_pg.seconds:.2f} s = {raw_pg.rate:,.0f}/s", flush=True)
        notes.append(
            "raw: the median of " + ", ".join(f"{r.rate:,.0f}" for r in runs) + " messages/s"
        )

        print("pipeline: outbox -> relay -> Kafka -> bonus's consumer -> ledger...", flush=True)
        bench.stage_held(pipeline_events)
        time.sleep(1)  # let the staging's writes settle before the clock starts
        first_id = bench.last_ledger_id()
        stages["pipeline"] = bench.measure(
            "pipeline", n, lambda: bench.ledger_holds(n), release=True
        )
        first, _ = bench.ledger_span(first_id)
        notes.append(
            f"pipeline: the first event reached the ledger"
            f" {first - stages['pipeline'].started_at:.2f} s after the relay was let go"
        )

        print("relay alone (bonus stopped): outbox -> Kafka...", flush=True)
        bench.stop("bonus")
        bench.stage_held(bonus_events(registry, managers, n, seed=2))
        time.sleep(1)
        stages["relay"] = bench.measure(
            "relay",
            n,
            lambda: bench.all_sent(),
            release=True,
            profile=("hiring", "hiring-relay"),
        )

        print("ledger alone, one bonus instance: Kafka backlog -> ledger...", flush=True)
        before_id = bench.last_ledger_id()
        restarted = time.perf_counter()
        bench.processes["bonus"].start()
        bench.processes["bonus"].wait_ready(90)
        ready_s = time.perf_counter() - restarted
        ready = bench.mark()
        stages["ledger"] = bench.measure(
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

        if args.instances >= 2:
            print("ledger alone, two bonus instances...", flush=True)
            bench.stop("bonus")
            bench.stage_held(bonus_events(registry, managers, n, seed=3))
            time.sleep(1)
            stages["relay2"] = bench.measure(
                "relay (again)", n, lambda: bench.all_sent(), release=True
            )
            before_id = bench.last_ledger_id()
            bench.processes["bonus"].start()
            bench.processes["bonus-2"].start()
            bench.processes["bonus"].wait_ready(90)
            ready = bench.mark()  # from the first instance's /ready
            bench.processes["bonus-2"].wait_ready(90)
            stages["ledger2"] = bench.measure(
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

        if why_not_py_spy is not None:
            profile_in_process(bench, registry, managers, n, why_not_py_spy)
        time.sleep(2)  # anything late (a redelivery) would show in the check
        problems = bench.money_check()
    except BaseException:
        bench.print_logs()
        raise
    finally:
        bench.close()

    report(args, raw, raw_pg, stages, notes, bench)
    if problems:
        print("\nMONEY CHECK FAILED: " + "; ".join(problems))
        return 1
    print(
        f"\nmoney check: the ledger holds exactly {len(bench.staged):,} entries, one per staged"
        " event, with its amount; bonus.money's inbox as many; nothing dead-lettered"
    )
    return 0


def report(
    args: Any,
    raw: RawResult,
    raw_pg: RawResult,
    stages: dict[str, Stage],
    notes: list[str],
    bench: Bench,
) -> None:
    print()
    print(
        f"Events through Kafka and PostgreSQL: {args.events:,} BonusAdded events per stage,"
        f" {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores shared by everything"
        + (" (py-spy attached during the stages marked *)" if bench.py_spy else "")
    )
    print()
    labels = {
        "pipeline": "pipeline: outbox -> Kafka -> ledger",
        "relay": "relay alone: outbox -> Kafka",
        "ledger": "ledger alone, 1 bonus instance",
        "relay2": "relay alone (again)",
        "ledger2": "ledger alone, 2 bonus instances",
    }
    rows = [("raw confluent-kafka: produce -> consume", raw.rate, raw.seconds, raw.cpu)]
    rows.append(("raw confluent-kafka: produce only", raw.produce_rate, raw.produce_seconds, {}))
    rows.append(("raw PostgreSQL: the consumer's rows", raw_pg.rate, raw_pg.seconds, raw_pg.cpu))
    for key, stage_ in stages.items():
        star = " *" if bench.py_spy and key in ("relay", "ledger") else ""
        rows.append((labels[key] + star, stage_.rate, stage_.seconds, stage_.cpu))
    columns = ("hiring", "bonus", "kafka", "postgres", "exercises", "bench", "other")
    print("| stage | events/s | seconds | vs raw | " + " | ".join(columns) + " | CPU per event |")
    print("|---|---|---|---|" + "---|" * len(columns) + "---|")
    for name, rate, seconds, cpu in rows:
        cores = " | ".join(f"{cpu[c] / seconds:.2f}" if c in cpu else "" for c in columns)
        used = sum(cpu.get(c, 0.0) for c in columns[:-1])
        per_event = f"{used / (rate * seconds) * 1e6:,.0f} µs" if cpu else ""
        print(
            f"| {name} | {rate:,.0f} | {seconds:.2f} | {rate / raw.rate:.1%} | {cores} |"
            f" {per_event} |"
        )
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
    print()
    print(
        f"pipeline / raw = {stages['pipeline'].rate / raw.rate:.1%} (aim: >= 25%);"
        f" ledger sustained = {stages['ledger'].rate:,.0f} money events/s (aim: >= 2,000/s)"
    )
    for note in notes:
        print(note)
    for profile in bench.profiles:
        print()
        print("\n".join(profile.report(args.top)))
    for lines in bench.cprofiles:
        print()
        print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000, help="money events per stage")
    parser.add_argument("--managers", type=int, default=24, help="managers (partition keys)")
    parser.add_argument(
        "--instances", type=int, default=2, choices=(1, 2), help="also measure 2 bonus instances"
    )
    parser.add_argument("--raw-runs", type=int, default=3, help="raw runs (the median counts)")
    parser.add_argument("--profile", action="store_true", help="py-spy on hiring and bonus")
    parser.add_argument(
        "--profiler",
        choices=("py-spy", "cprofile"),
        default="py-spy",
        help="cprofile: the relay and the consumer in this process instead (py-spy's fallback)",
    )
    parser.add_argument("--top", type=int, default=12, help="functions per profile table")
    parser.add_argument("--profile-dir", type=Path, default=None, help="where py-spy writes")
    args = parser.parse_args()

    run_id = uuid.uuid4().hex[:10]
    prefix = f"bench-{run_id}."
    servers = Servers()
    servers.ensure()
    code = 1
    try:
        with tempfile.TemporaryDirectory(prefix="th-dbench-") as tmp:
            if args.profile and args.profile_dir is None:
                args.profile_dir = Path(tempfile.mkdtemp(prefix="th-dbench-profile-"))
            with bench_databases(run_id) as databases:
                try:
                    code = run(args, prefix, databases, Path(tmp))
                finally:
                    delete_topics(prefix)
    finally:
        servers.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()
