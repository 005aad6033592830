"""The raw limits a stage is compared with: confluent-kafka alone producing and consuming the
pipeline's records, and psycopg alone writing the rows bonus's consumer writes."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from psycopg.types.json import Jsonb

from bench.lib.cpu import CpuMeter
from bench.lib.kafka_pg import KAFKA, PARTITIONS, create_topic
from bench.lib.records import producer_config, records_of
from teacher_hiring.foundation.time import now_rfc3339
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.registry import SchemaRegistry


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
    producer = Producer(producer_config())
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
