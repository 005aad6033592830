"""Building a ServiceRuntime from settings: the part of every bootstrap that is the same."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path

import sqlalchemy as sa

from teacher_hiring.foundation.time import Clock, system_clock
from teacher_hiring.messaging.consumer import ConsumerRunner, Subscription
from teacher_hiring.messaging.kafka_access import read_client_config
from teacher_hiring.messaging.outbox import Keeper, Outbox
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.relay import OutboxRelay, Router
from teacher_hiring.messaging.sinks import LogSink
from teacher_hiring.messaging.upcasting import Upcaster
from teacher_hiring.runtime.db import make_engine, upgrade_to_head
from teacher_hiring.runtime.flags import RuntimeFlags
from teacher_hiring.runtime.logging import configure_logging
from teacher_hiring.runtime.revocations import Revocations
from teacher_hiring.runtime.service import ServiceRuntime
from teacher_hiring.runtime.settings import ServiceSettings
from teacher_hiring.runtime.transports import make_transport


def assemble(
    name: str,
    settings: ServiceSettings,
    *,
    migrations: Path,
    subscriptions: Sequence[Subscription],
    upcaster: Upcaster | None = None,
    route: Router | None = None,
    versions: Mapping[str, int] | None = None,
    registry: SchemaRegistry | None = None,
    flags: Mapping[str, str] | None = None,
    configure_logs: bool = True,
    clock: Clock = system_clock,
    keepers: Sequence[Keeper] = (),
    kept_events: Sequence[sa.Table] = (),
    peers: Mapping[str, str] | None = None,
) -> ServiceRuntime:
    """Engine (migrated to head), transport, outbox, relay and consumer runners of a service.

    `upcaster` holds the steps the service's consumers need to read old event versions (the
    service composes them from teacher_hiring.events; none by default); `flags` are the
    operator flags of the service with their values before anyone sets them; `clock` is where
    its events' `produced_at` comes from; `keepers` record what its outbox stages (the money a
    service issues, teacher_hiring.money.issued.keep) and `kept_events` the tables they keep
    them in; `peers` are the base URLs of the services it calls, by name (a replay on the
    secured broker asks the topic's producer, runtime/producer_replays.py).
    """
    if configure_logs:
        configure_logging(name, settings.log_level, settings.log_format)
    registry = registry or SchemaRegistry.load()
    engine = make_engine(settings.database_url, background_checkpoints=settings.run_workers)
    upgrade_to_head(engine, migrations)
    revocations = Revocations(engine)
    client_config = settings.kafka_client_config
    transport = make_transport(
        settings.event_log_url,
        partitions=settings.partitions,
        topic_prefix=settings.topic_prefix,
        client_id=f"{name}@{socket.gethostname()}:{os.getpid()}",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        client_config=read_client_config(client_config) if client_config else None,
    )
    relay = OutboxRelay(
        engine=engine,
        log_sink=LogSink(transport.producer(), registry),
        service=name,
        batch_size=settings.relay_batch_size,
    )
    if route is not None:
        relay.route = route
    runners = [
        ConsumerRunner(
            service=name,
            subscription=subscription,
            transport=transport,
            registry=registry,
            engine=engine,
            upcaster=upcaster or Upcaster(),
            max_attempts=settings.consumer_max_attempts,
            batch_size=settings.consumer_batch_size,
        )
        for subscription in subscriptions
    ]
    return ServiceRuntime(
        name=name,
        engine=engine,
        transport=transport,
        registry=registry,
        outbox=Outbox(registry, producer=name, versions=versions, clock=clock, keepers=keepers),
        relay=relay,
        runners=runners,
        flags=RuntimeFlags(engine, flags or {}),
        run_workers=settings.run_workers,
        outbox_retention_s=settings.outbox_retention_s,
        tokens=settings.tokens(revocations.not_before),
        revocations=revocations,
        peers=dict(peers or {}),
        kept_events=tuple(kept_events),
    )
