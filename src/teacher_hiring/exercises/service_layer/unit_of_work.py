"""One transaction per command: a state change and its outbox rows commit together, or neither."""

from __future__ import annotations

from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine

from teacher_hiring.exercises.adapters.repository import Repository
from teacher_hiring.exercises.service_layer.events import EventVersions
from teacher_hiring.messaging import inbox
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.money import issued
from teacher_hiring.runtime.clock import Clock


class UnitOfWork:
    """`with uow:` begins a transaction on the engine, committed only if the block ends normally.

    Built with `bound(conn, outbox)` it works inside a transaction someone else owns (a consumer
    runner that already claimed the event in the inbox) and neither commits nor rolls back.
    `versions` says which version of the exercise and manager events to produce; `clock` (the
    outbox's) gives the handlers' "now".
    """

    def __init__(
        self,
        engine: Engine | None,
        outbox: Outbox,
        conn: Connection | None = None,
        versions: EventVersions | None = None,
    ):
        self._engine = engine
        self._outbox = outbox
        self._bound = conn
        self.versions = versions or EventVersions()
        self.clock: Clock = outbox.clock
        self._transaction: AbstractContextManager[Connection] | None = None
        self._conn: Connection | None = None
        self.staged: list[Envelope] = []

    @classmethod
    def bound(cls, conn: Connection, outbox: Outbox) -> UnitOfWork:
        return cls(None, outbox, conn)

    def __enter__(self) -> UnitOfWork:
        self.staged = []
        if self._bound is not None:
            self._conn = self._bound
        else:
            assert self._engine is not None
            self._transaction = self._engine.begin()
            self._conn = self._transaction.__enter__()
        self.repo = Repository(self._conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        transaction, self._transaction, self._conn = self._transaction, None, None
        if transaction is not None:
            transaction.__exit__(exc_type, exc, traceback)

    @property
    def conn(self) -> Connection:
        assert self._conn is not None, "use the unit of work in a with block"
        return self._conn

    def stage(
        self, event_name: str, payload: dict[str, Any], *, version: int | None = None
    ) -> Envelope:
        """Write the event to the outbox in this transaction (validated against its schema);
        at `version`, else at the outbox's version of it. A money event is also kept in the
        record of issued money that reconciliation reads."""
        envelope = self._outbox.stage(self.conn, event_name, payload, version=version)
        issued.keep(self.conn, envelope)
        self.staged.append(envelope)
        return envelope

    def claim(self, consumer: str, event_id: str, event_name: str) -> bool:
        """Record the event as applied by `consumer` in this transaction; False if it was."""
        marker = Envelope(event_id, 0, event_name, "", "", "", {})
        return inbox.claim(self.conn, consumer, marker)
