"""Bonus's ledger consumer as a Python team would write it with FastStream: a Kafka
subscriber (aiokafka underneath) that, per money event (per batch of them with `batch`),
reads the event from the record (FastStream decodes the JSON body, the payload; the event's
id, name, version, time, producer and trace id are in its `ce_` headers, messaging.wire),
validates it against the registry, claims it in the inbox and books it (ledger entry +
account) in one transaction, then lets FastStream commit the offset
(AckPolicy.NACK_ON_ERROR: acknowledged after the handler returns). The database work is
bonus's own (inbox.claim and handlers.record_money), so the comparison with bonus's
ConsumerRunner is of the consuming, not of the SQL.

    .venv/bin/python -m bench.peers.faststream_ledger BOOTSTRAP TOPIC GROUP DB_URL N MODE

MODE: each or batch.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import Any

import sqlalchemy as sa
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from teacher_hiring.bonus.adapters.repository import BonusRepository
from teacher_hiring.bonus.bootstrap import MIGRATIONS
from teacher_hiring.bonus.domain.commands import CreditBonus, CreditPayment, DebitFine
from teacher_hiring.bonus.domain.model import EventSource
from teacher_hiring.bonus.service_layer import handlers
from teacher_hiring.messaging import inbox, wire
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.runtime.db import make_engine, upgrade_to_head

COMMANDS: dict[str, Any] = {
    "BonusAdded": CreditBonus,
    "FineAdded": DebitFine,
    "PaymentCommited": CreditPayment,
}


def serve(
    bootstrap: str, topic: str, group: str, database_url: str, expected: int, mode: str
) -> None:
    """Consume until `expected` events were handled; prints 'ready' once subscribed.

    `each`: FastStream's usual form, one message per call, one transaction per event, its
    offset committed after it. `batch`: FastStream's batch subscriber, up to 500 messages per
    call in one transaction (bonus's ConsumerRunner does the same per poll).
    """
    engine = make_engine(database_url)
    upgrade_to_head(engine, MIGRATIONS)
    registry = SchemaRegistry.load()
    _check_bare_payloads(registry)
    logging.basicConfig(level=logging.WARNING)
    broker = KafkaBroker(bootstrap, client_id="bench-faststream", log_level=logging.WARNING)
    progress = Progress(expected)
    subscribe = _subscribe_each if mode == "each" else _subscribe_batch
    subscribe(broker, topic, group, Ledger(engine, registry, group), progress)
    asyncio.run(_consume(broker, progress))
    with engine.connect() as conn:
        entries = conn.execute(sa.text("SELECT count(*) FROM ledger")).scalar_one()
    print(f"done {entries} {time.time()}", flush=True)
    engine.dispose()


def _check_bare_payloads(registry: SchemaRegistry) -> None:
    """FastStream decodes a record's body as the payload: it must carry nothing else."""
    for name in COMMANDS:
        if any(registry.body_fields(name, v) is not None for v in registry.spec(name).versions):
            raise SystemExit(f"{name}'s records do not carry the bare payload")


class Progress:
    """Events handled so far; `done` is set once the expected number were."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.handled = 0
        self.done = asyncio.Event()

    def count(self, n: int) -> None:
        self.handled += n
        if self.handled >= self.expected:
            self.done.set()


class Ledger:
    """Bonus's database work for a money event: the inbox claim, then its ledger entry."""

    def __init__(self, engine: sa.Engine, registry: SchemaRegistry, group: str) -> None:
        self.engine = engine
        self.registry = registry
        self.group = group

    def parsed(self, payload: dict[str, Any], headers: dict[str, str]) -> Envelope:
        # FastStream decodes the JSON body (the payload); the rest of the event is in the
        # record's headers, read as messaging.wire's RecordCodec.decode reads them; the
        # envelope is then checked as the project's consumer checks it.
        envelope = Envelope.from_dict(
            {
                "event_id": headers.get(wire.ID),
                "event_version": int(headers[wire.EVENT_VERSION]),
                "event_name": headers[wire.TYPE],
                "produced_at": headers.get(wire.TIME),
                "producer": headers.get(wire.SOURCE),
                "trace_id": headers.get(wire.TRACE_ID),
                "payload": payload,
            }
        )
        self.registry.validate(envelope.as_dict())
        return envelope

    def apply(self, envelope: Envelope) -> None:
        """One event in a transaction of its own."""
        with self.engine.begin() as conn:
            if inbox.claim(conn, self.group, envelope):
                self._book(conn, envelope)

    def apply_many(self, envelopes: list[Envelope]) -> None:
        """A batch of events in one transaction."""
        with self.engine.begin() as conn:
            claimed = inbox.claim_many(conn, self.group, envelopes)
            for envelope in envelopes:
                if envelope.event_id in claimed:
                    claimed.discard(envelope.event_id)
                    self._book(conn, envelope)

    @staticmethod
    def _book(conn: sa.Connection, envelope: Envelope) -> None:
        source = EventSource(
            event_id=envelope.event_id,
            event_name=envelope.event_name,
            producer=envelope.producer,
            trace_id=envelope.trace_id,
        )
        command = COMMANDS[envelope.event_name](**envelope.payload)
        handlers.record_money(command, source, UnitOfWork.joining(conn, BonusRepository))


def _options(group: str) -> dict[str, Any]:
    return {
        "group_id": group,
        "auto_offset_reset": "earliest",
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "isolation_level": "read_committed",
    }


def _subscribe_each(
    broker: KafkaBroker, topic: str, group: str, ledger: Ledger, progress: Progress
) -> None:
    @broker.subscriber(topic, **_options(group))
    async def on_money(body: dict[str, Any], message: KafkaMessage) -> None:
        ledger.apply(ledger.parsed(body, message.headers))
        progress.count(1)


def _subscribe_batch(
    broker: KafkaBroker, topic: str, group: str, ledger: Ledger, progress: Progress
) -> None:
    @broker.subscriber(topic, batch=True, max_records=500, batch_timeout_ms=10, **_options(group))
    async def on_money_batch(bodies: list[dict[str, Any]], message: KafkaMessage) -> None:
        # batch_headers: each record's headers, in the order of the bodies
        envelopes = [
            ledger.parsed(body, headers)
            for body, headers in zip(bodies, message.batch_headers, strict=True)
        ]
        ledger.apply_many(envelopes)
        progress.count(len(envelopes))


async def _consume(broker: KafkaBroker, progress: Progress) -> None:
    async with broker:
        await broker.start()
        print("ready", flush=True)
        await asyncio.wait_for(progress.done.wait(), timeout=900)
        await asyncio.sleep(0.5)  # let the last offset commit go out


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
