"""Bonus's own money consumer (messaging.consumer.ConsumerRunner with bonus's money
subscription), alone in a process, on a topic of money events: the side of the comparison
that bench/peers/faststream_ledger.py is measured against.

    .venv/bin/python -m bench.peers.project_ledger BOOTSTRAP TOPIC_PREFIX DATABASE_URL EXPECTED
"""

from __future__ import annotations

import sys
import time

import sqlalchemy as sa

from teacher_hiring.bonus.bootstrap import MIGRATIONS
from teacher_hiring.bonus.entrypoints.consumers import MONEY_GROUP, subscriptions
from teacher_hiring.messaging.consumer import ConsumerRunner
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.runtime.db import make_engine, upgrade_to_head
from teacher_hiring.runtime.transports import make_transport

PARTITIONS = 6


def serve(bootstrap: str, prefix: str, database_url: str, expected: int) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine, MIGRATIONS)
    transport = make_transport(
        f"kafka://{bootstrap}", partitions=PARTITIONS, topic_prefix=prefix, client_id="bench"
    )
    money = next(s for s in subscriptions() if s.group == MONEY_GROUP)
    runner = ConsumerRunner("bonus", money, transport, SchemaRegistry.load(), engine)
    runner.start()
    print("ready", flush=True)
    query = sa.text("SELECT coalesce(max(id), 0) FROM ledger")
    deadline = time.monotonic() + 900
    count = 0
    while time.monotonic() < deadline:
        if runner.run_once() == 0:
            with engine.connect() as conn:
                if int(conn.execute(query).scalar_one()) >= expected:
                    count = int(conn.execute(sa.text("SELECT count(*) FROM ledger")).scalar_one())
                    if count >= expected:
                        break
    runner.close()
    transport.close()
    print(f"done {count} {time.time()}", flush=True)
    engine.dispose()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
