"""What routes need, built once by bootstrap and reached through one dependency."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from teacher_hiring.foundation.sql import is_sqlite
from teacher_hiring.hiring.adapters import event_versions
from teacher_hiring.hiring.adapters.calls import HiringCalls
from teacher_hiring.hiring.adapters.repository import HiringRepository
from teacher_hiring.hiring.domain.model import Rules
from teacher_hiring.hiring.entrypoints import consumers
from teacher_hiring.hiring.service_layer.events import EventVersions
from teacher_hiring.hiring.service_layer.ports import Repository
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.messaging.upcasting import Upcaster
from teacher_hiring.runtime.event_versions import ProducedVersions
from teacher_hiring.runtime.registration_limits import RegistrationLimits


@dataclass(frozen=True)
class Hiring:
    engine: Engine
    outbox: Outbox
    registry: SchemaRegistry
    rules: Rules
    upcaster: Upcaster = field(default_factory=consumers.upcaster)
    calls: HiringCalls | None = None  # the old wiring's calls, made when a link is in sync mode
    versions: ProducedVersions | None = None  # the operator's choice of produced versions
    registration_limits: RegistrationLimits | None = None  # None: registrations unlimited

    @property
    def inline_writes(self) -> bool:
        """Whether a write is quick and never waits on a lock (SQLite's single writer)."""
        return is_sqlite(self.engine)

    @property
    def calling(self) -> HiringCalls | None:
        """The calls a submission makes now, if any link of it is in sync mode."""
        return self.calls if self.calls is not None and self.calls.active() else None

    def produced(self) -> EventVersions:
        """The versions a command produces now (the newest, with no operator flags)."""
        return EventVersions() if self.versions is None else event_versions.current(self.versions)

    def uow(self) -> UnitOfWork[Repository]:
        """A unit of work on hiring's SQL repository, as the handlers see it (ports)."""
        return UnitOfWork(self.engine, HiringRepository, outbox=self.outbox)


async def get_hiring(request: Request) -> Hiring:
    """Async on purpose: a plain lookup, so FastAPI need not hop to its thread pool for it."""
    hiring: Hiring = request.app.state.hiring
    return hiring


async def raw_body(request: Request) -> bytes:
    """The request body as sent, for endpoints that parse an envelope themselves."""
    return await request.body()


HiringDep = Annotated[Hiring, Depends(get_hiring)]
RawBody = Annotated[bytes, Depends(raw_body)]
