"""The parts of one running service, built once by its bootstrap and shared by its entrypoints."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import httpx
import sqlalchemy as sa
import structlog
from sqlalchemy import Engine

from teacher_hiring.messaging.consumer import ConsumerRunner
from teacher_hiring.messaging.dead_letters import DeadLetters
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.relay import OutboxRelay
from teacher_hiring.messaging.transport import Transport
from teacher_hiring.runtime.bearer import Bearer
from teacher_hiring.runtime.db import checkpoint, dispose
from teacher_hiring.runtime.flags import RuntimeFlags
from teacher_hiring.runtime.producer_replays import ProducerReplays
from teacher_hiring.runtime.revocations import Revocations
from teacher_hiring.runtime.tokens import ServiceToken, Tokens

log = structlog.get_logger(__name__)


@dataclass
class ServiceRuntime:
    name: str
    engine: Engine
    transport: Transport
    registry: SchemaRegistry
    outbox: Outbox
    relay: OutboxRelay
    runners: list[ConsumerRunner]
    flags: RuntimeFlags
    run_workers: bool = True
    outbox_retention_s: float = 7 * 24 * 3600
    maintenance_interval_s: float = 60.0
    checkpoint_interval_s: float = 0.5
    on_close: list[Callable[[], None]] = field(default_factory=list)
    purges: dict[str, Callable[[], int]] = field(default_factory=dict)
    """More to forget on each maintenance pass, by name: each returns how many rows went."""
    tokens: Tokens | None = None
    """The platform's tokens: verifies the callers' (runtime/auth.py), mints this service's."""
    revocations: Revocations | None = None
    """The people whose tokens minted before a time are refused (runtime/revocations.py)."""
    peers: dict[str, str] = field(default_factory=dict)
    """The base URLs of the services this one calls, by name (a replay asks the producer)."""
    kept_events: tuple[sa.Table, ...] = ()
    """Tables of this service keeping envelopes it sent longer than its outbox (the money it
    issued): a replay for a consumer sends them again from there."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start_workers(self) -> None:
        """Run the relay and every consumer in background threads of this process."""
        if not self.run_workers or self._threads:
            return
        self._stop.clear()
        self.transport.ensure_topics(self.registry.topics())
        targets: list[tuple[str, Callable[[threading.Event], None]]] = [
            (f"{self.name}-relay", self.relay.run)
        ]
        targets += [(f"{self.name}-{r.group}", r.run) for r in self.runners]
        targets.append((f"{self.name}-maintenance", self._maintain))
        targets.append((f"{self.name}-checkpoint", self._checkpoint))
        for thread_name, target in targets:
            thread = threading.Thread(target=target, args=(self._stop,), name=thread_name)
            thread.daemon = True
            thread.start()
            self._threads.append(thread)
        log.info("workers.started", threads=[t.name for t in self._threads])

    def stop_workers(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads.clear()

    def close(self) -> None:
        self.stop_workers()
        for hook in self.on_close:
            hook()
        self.transport.close()
        dispose(self.engine)

    def _maintain(self, stop: threading.Event) -> None:
        """Forget what is old: sent outbox rows past their keeping period, expired log records."""
        while not stop.wait(self.maintenance_interval_s):
            try:
                purged = self.relay.purge_sent(self.outbox_retention_s)
                retention = getattr(self.transport, "enforce_retention", None)
                expired = retention() if callable(retention) else 0
                more = {name: purge() for name, purge in self.purges.items()}
                if purged or expired or any(more.values()):
                    log.info("maintenance.purged", outbox_rows=purged, log_records=expired, **more)
            except Exception:
                log.exception("maintenance.failed")
            try:  # the dead_letters_pending gauge
                self.dead_letters.refresh_gauge()
            except Exception:
                log.exception("maintenance.dead_letters_failed")

    def service_token(self, *audience: str) -> ServiceToken:
        """The token this service sends on its calls to `audience` (docs/security.md)."""
        if self.tokens is None:
            raise RuntimeError(f"{self.name}: no secret to mint a service token with")
        return ServiceToken(self.tokens, self.name, audience)

    def service_auth(self, *audience: str) -> httpx.Auth:
        """For the HTTP clients of this service's calls to the services named: a service token
        naming this service (`sub`) and them (`aud`)."""
        return Bearer(self.service_token(*audience).token)

    @cached_property
    def dead_letters(self) -> DeadLetters:
        """The dead letters of this service's consumer groups (docs/runbooks/dead-letters.md)."""
        at_producer = None
        if self.transport.writes_only_as() is not None:
            at_producer = ProducerReplays(self.peers, self.service_auth)
            self.on_close.append(at_producer.close)
        return DeadLetters(
            self.name, self.transport, self.engine, self.registry, self.runners, at_producer
        )

    def _checkpoint(self, stop: threading.Event) -> None:
        while not stop.wait(self.checkpoint_interval_s):
            try:
                checkpoint(self.engine)
            except Exception:
                log.exception("checkpoint.failed")

    def workers_alive(self) -> bool:
        return all(thread.is_alive() for thread in self._threads)
