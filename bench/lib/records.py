"""The money events a run moves: valid BonusAdded envelopes as hiring builds them, staged in
hiring's outbox, or laid out as the Kafka records hiring's relay sends."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from bench.lib.kafka_pg import KAFKA
from teacher_hiring.foundation.time import now_rfc3339
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.wire import RecordCodec

STAGE_TRANSACTION = 1000  # events staged per outbox transaction


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


def producer_config() -> dict[str, Any]:
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
