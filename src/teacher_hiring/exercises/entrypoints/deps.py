"""What the routes depend on, built once by bootstrap and reached through `Annotated` types."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, Request
from sqlalchemy import Connection

from teacher_hiring.exercises.adapters import event_versions, views
from teacher_hiring.exercises.adapters.hiring_client import HiringCompletions
from teacher_hiring.exercises.adapters.repository import Repository
from teacher_hiring.exercises.domain.model import ComplicationRules
from teacher_hiring.exercises.service_layer.events import EventVersions
from teacher_hiring.exercises.service_layer.ports import ExercisesRepository
from teacher_hiring.foundation.sql import read_only
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.runtime.event_versions import ProducedVersions
from teacher_hiring.runtime.link_calls import CallsInRequest
from teacher_hiring.runtime.links import SwitchableLink
from teacher_hiring.runtime.service import ServiceRuntime

log = structlog.get_logger(__name__)

TURN_PAUSE_S = 0.005


@dataclass
class Services:
    runtime: ServiceRuntime
    rules: ComplicationRules
    link: SwitchableLink
    versions: ProducedVersions
    leaks: HiringCompletions  # which version a leak report of v0 concerned, asked of hiring
    calls: CallsInRequest | None = None  # COMM-080 in sync mode: the save pays by a call
    push_wait_s: float = 5.0  # how long a save waits for another instance's relay to push

    def uow(self) -> UnitOfWork[ExercisesRepository]:
        """A unit of work owning its transaction, staging in this service's outbox."""
        return UnitOfWork(self.runtime.engine, Repository, outbox=self.runtime.outbox)

    def produced(self) -> EventVersions:
        """The versions of the exercise and manager events a save produces now (read once per
        save, before its transaction, so a save never mixes versions)."""
        return event_versions.current(self.versions)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A snapshot for queries: readers never queue behind writers."""
        with read_only(self.runtime.engine) as conn:
            yield conn

    def push_now(self, event_id: str) -> bool:
        """In push mode, relay at once so hiring has the new exercise or version before the
        manager's response; True if the event was delivered. A failure only leaves it to the
        relay.

        With several instances, another one's relay may be sending a batch when this one
        tries: the event is then in that batch or the next turn's, so this one waits its
        turn (at most `push_wait_s`) rather than answer before hiring has the version.
        """
        if self.link.mode != "push":
            return False
        deadline = time.monotonic() + self.push_wait_s
        while True:
            try:
                turn = self.runtime.relay.take_turn()
            except Exception:
                log.exception("exercises.push_failed", event_id=event_id)
                turn = 0
            with self.reading() as conn:
                if views.event_sent(conn, event_id):
                    return True
            if turn is not None or time.monotonic() > deadline:
                return False  # this relay's turn came and the push failed: the relay retries
            time.sleep(TURN_PAUSE_S)

    def call_now(self, staged: Sequence[Envelope], *, done: str) -> None:
        """The old wiring: deliver the save's payments to bonus before answering, when the
        payment link is in sync mode; a failed call raises CallFailed naming bonus."""
        if self.calls is not None:
            self.calls.deliver(staged, done=done)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
