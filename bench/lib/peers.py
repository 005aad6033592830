"""The ledger consumer against FastStream and the raw limits, on Kafka and PostgreSQL.

FastStream has no broker for the embedded log, so this part always runs on Kafka and
PostgreSQL (started with scripts/ if they do not answer, bench/lib/kafka_pg.py),
whatever deployment the rest of the run used. In one run, on the same N BonusAdded events
(the very bytes, keys and headers hiring's relay sends), one side after the other so that
each has the machine to itself:
  raw kafka    confluent-kafka alone: produce N and consume them in a group (the client's
               limit; bench/lib/raw.py);
  raw pg       psycopg alone: bonus's rows for the N events (the database's limit);
  bonus        bonus's ConsumerRunner in a process of its own (bench/peers/project_ledger.py);
  faststream   the same database work under FastStream (bench/peers/faststream_ledger.py),
               one event per call as FastStream is usually written, then its batch form.
Each consumer reads the topic from the start into a fresh bonus database; its rate is N over
the time from its first ledger entry to its last (the group's join is not counted for
either). Reported as ratios: absolute figures on a shared 2-core machine say little.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from confluent_kafka import Producer

from bench.lib import kafka_pg
from bench.lib.cpu import CpuMeter
from bench.lib.raw import raw_baseline, raw_postgres
from bench.lib.records import bonus_events, producer_config, records_of
from teacher_hiring.bonus.bootstrap import MIGRATIONS
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.runtime.db import make_engine, upgrade_to_head

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PeerResult:
    events: int
    raw_kafka: float
    raw_pg: float
    consumers: dict[str, float]
    """events/s of each consumer: bonus, faststream (per event), faststream batch"""
    entries: dict[str, int]

    def ratios(self) -> dict[str, float]:
        out = {}
        for name, rate in self.consumers.items():
            out[f"{name} / raw confluent-kafka"] = rate / self.raw_kafka
        for name, rate in self.consumers.items():
            out[f"{name} / raw PostgreSQL rows"] = rate / self.raw_pg
        bonus = self.consumers["bonus"]
        for name, rate in self.consumers.items():
            if name != "bonus":
                out[f"bonus / {name}"] = bonus / rate
        return out


def _produce(registry: SchemaRegistry, events: Sequence[Envelope], topic: str) -> None:
    """The events as hiring's relay writes them (messaging.wire: the body, the `ce_` headers)."""
    producer = Producer(producer_config())
    for key, value, headers in records_of(registry, events):
        while True:
            try:
                producer.produce(topic, value, key, headers=headers)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    if producer.flush(60):
        raise RuntimeError("events not delivered to Kafka")


def _consume(command: list[str], database_url: str) -> tuple[float, int]:
    """Run one consumer process to the end; (events/s first to last entry, entries)."""
    process = subprocess.Popen(
        [sys.executable, "-m", *command], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    lines = [line.strip() for line in process.stdout]
    if process.wait(960) != 0 or not lines or not lines[-1].startswith("done"):
        raise RuntimeError(f"{command[0]} failed: {lines[-5:]}")
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        first, last, count = conn.execute(
            sa.text("SELECT min(recorded_at), max(recorded_at), count(*) FROM ledger")
        ).one()
    engine.dispose()
    seconds = _epoch(last) - _epoch(first)
    return (count - 1) / seconds if seconds > 0 else float("nan"), int(count)


def _epoch(value: str) -> float:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def compare(events: int, managers: int = 24) -> PeerResult:
    servers = kafka_pg.Servers()
    try:
        servers.ensure()
    except BaseException:
        servers.stop()  # what it started before the one that failed
        raise
    run_id = uuid.uuid4().hex[:10]
    prefix = f"bench-{run_id}."
    try:
        with kafka_pg.bench_databases(run_id, ("bonus", "peer", "peer_batch", "raw")) as urls:
            return _compare_on(urls, prefix, events, managers)
    finally:
        try:
            kafka_pg.delete_topics(prefix)
        finally:
            servers.stop()


def _compare_on(urls: dict[str, str], prefix: str, events: int, managers: int) -> PeerResult:
    """The raw limits, then each consumer, on fresh bonus databases and topics under `prefix`."""
    for url in urls.values():
        engine = make_engine(url)
        upgrade_to_head(engine, MIGRATIONS)
        engine.dispose()
    registry = SchemaRegistry.load()
    manager_ids = [str(uuid.uuid4()) for _ in range(managers)]
    batch = bonus_events(registry, manager_ids, events, seed=7)
    meter = CpuMeter({})
    print(f"  raw confluent-kafka: {events:,} events produced and consumed...", flush=True)
    raw = raw_baseline(registry, batch, f"{prefix}raw.money", meter)
    print(f"    {raw.rate:,.0f}/s", flush=True)
    raw_pg = raw_postgres(urls["raw"], batch, meter)
    print(f"  raw PostgreSQL rows: {raw_pg.rate:,.0f}/s", flush=True)
    topic = f"{prefix}{registry.spec('BonusAdded').topic}"
    kafka_pg.create_topic(topic)
    _produce(registry, batch, topic)
    rates, entries = _consumers(urls, prefix, topic, events)
    time.sleep(0.1)
    return PeerResult(events, raw.rate, raw_pg.rate, rates, entries)


def _consumers(
    urls: dict[str, str], prefix: str, topic: str, events: int
) -> tuple[dict[str, float], dict[str, int]]:
    """Bonus's ConsumerRunner, then FastStream per event and in batches, one after the other:
    (events/s, ledger entries) of each."""
    rates: dict[str, float] = {}
    entries: dict[str, int] = {}
    rates["bonus"], entries["bonus"] = _consume(
        ["bench.peers.project_ledger", kafka_pg.KAFKA, prefix, urls["bonus"], str(events)],
        urls["bonus"],
    )
    print(f"  bonus's ConsumerRunner: {rates['bonus']:,.0f}/s", flush=True)
    for name, mode in (("faststream", "each"), ("faststream batch", "batch")):
        url = urls["peer" if mode == "each" else "peer_batch"]
        command = ["bench.peers.faststream_ledger", kafka_pg.KAFKA, topic, f"bench.{mode}"]
        rates[name], entries[name] = _consume([*command, url, str(events), mode], url)
        print(f"  {name}: {rates[name]:,.0f}/s", flush=True)
    return rates, entries
