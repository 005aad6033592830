"""Bonus's ledger consumer as a Python team would write it with FastStream: a Kafka
subscriber (aiokafka underneath) that, per money event, validates it against the registry,
claims it in the inbox and books it (ledger entry + account) in one transaction, then lets
FastStream commit the offset (AckPolicy.NACK_ON_ERROR: acknowledged after the handler
returns). The database work is bonus's own (inbox.claim and handlers.record_money), so the
comparison with bonus's ConsumerRunner is of the consuming, not of the SQL.

    .venv/bin/python -m bench.peers.faststream_ledger BOOTSTRAP TOPIC GROUP DATABASE_URL EXPECTED
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

from teacher_hiring.bonus.bootstrap import MIGRATIONS
from teacher_hiring.bonus.domain.commands import CreditBonus, CreditPayment, DebitFine
from teacher_hiring.bonus.domain.model import EventSource
from teacher_hiring.bonus.service_layer import handlers
from teacher_hiring.bonus.service_layer.unit_of_work import UnitOfWork
from teacher_hiring.messaging import inbox
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.runtime.db import make_engine, upgrade_to_head

COMMANDS: dict[str, Any] = {
    "BonusAdded": CreditBonus,
    "FineAdded": DebitFine,
    "PaymentCommited": CreditPayment,
}


def serve(bootstrap: str, topic: str, group: str, database_url: str, expected: int) -> None:
    """Consume until the ledger holds `expected` entries; prints 'ready' once subscribed."""
    engine = make_engine(database_url)
    upgrade_to_head(engine, MIGRATIONS)
    registry = SchemaRegistry.load()
    logging.basicConfig(level=logging.WARNING)
    broker = KafkaBroker(bootstrap, client_id="bench-faststream", log_level=logging.WARNING)
    booked = 0
    done = asyncio.Event()

    @broker.subscriber(
        topic,
        group_id=group,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        isolation_level="read_committed",
    )
    async def on_money(body: dict[str, Any]) -> None:
        nonlocal booked
        # FastStream decodes the JSON body; the envelope is checked as the project's is.
        registry.validate(body)
        envelope = Envelope.from_dict(body)
        source = EventSource(
            event_id=envelope.event_id,
            event_name=envelope.event_name,
            producer=envelope.producer,
            trace_id=envelope.trace_id,
        )
        with engine.begin() as conn:
            if inbox.claim(conn, group, envelope):
                command = COMMANDS[envelope.event_name](**envelope.payload)
                handlers.record_money(command, source, UnitOfWork.joining(conn))
        booked += 1
        if booked >= expected:
            done.set()

    async def main() -> None:
        async with broker:
            await broker.start()
            print("ready", flush=True)
            await asyncio.wait_for(done.wait(), timeout=900)
            await asyncio.sleep(0.5)  # let the last offset commit go out

    asyncio.run(main())
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM ledger")).scalar_one()
    print(f"done {count} {time.time()}", flush=True)
    engine.dispose()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
