"""The pipeline under test: hiring's outbox, its relay, Kafka and bonus's ledger, run as real
`teacher-hiring serve` processes on PostgreSQL; the relay held back while events are staged,
each stage timed until its end shows in the databases, and the money check at the end."""

from __future__ import annotations

import cProfile
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa

from bench.lib.cpu import CpuMeter
from bench.lib.kafka_pg import PARTITIONS, PLAINTEXT, KafkaAt, message_count
from bench.lib.profiles import Profile, cprofile_report
from bench.lib.records import bonus_events, stage
from teacher_hiring.bonus.entrypoints.consumers import MONEY_GROUP
from teacher_hiring.bonus.entrypoints.consumers import subscriptions as bonus_subscriptions
from teacher_hiring.messaging.consumer import ConsumerRunner
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.relay import RELAY_LOCK, OutboxRelay
from teacher_hiring.messaging.sinks import LogSink
from teacher_hiring.runtime.db import make_engine
from teacher_hiring.runtime.processes import Deployment, ServiceProcess
from teacher_hiring.runtime.tokens import Role, Tokens
from teacher_hiring.runtime.transports import make_transport

POLL_S = 0.02  # how often the end of a stage is looked for


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
    def __init__(
        self,
        deployment: Deployment,
        registry: SchemaRegistry,
        args: Any,
        kafka: KafkaAt = PLAINTEXT,
    ) -> None:
        self.deployment = deployment
        self.kafka = kafka
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
        self.meter = CpuMeter(self.processes, kafka.pidfile)
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
        dlq = message_count(f"{self.deployment.topic_prefix}money.dlq", self.kafka)
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
