"""One transaction per command: commits when the block ends normally, rolls back otherwise."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine

from teacher_hiring.bonus.adapters.repository import BonusRepository
from teacher_hiring.messaging import inbox
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.outbox import Outbox


class UnitOfWork:
    """`with uow:` opens a transaction on the engine, or joins the consumer's connection.

    Bound to a consumer's connection (`UnitOfWork.joining(conn)`), it neither commits nor
    rolls back: the consumer runner owns that transaction (and the savepoint, when it applies
    events one by one), and an exception leaving the block makes the runner roll the event back.
    """

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        connection: Connection | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        if (engine is None) == (connection is None):
            raise ValueError("give an engine or a connection, not both")
        self._engine = engine
        self._bound = connection
        self._outbox = outbox
        self._conn: Connection | None = None
        self._owned: Any = None

    @classmethod
    def joining(cls, connection: Connection, outbox: Outbox | None = None) -> UnitOfWork:
        return cls(connection=connection, outbox=outbox)

    def __enter__(self) -> UnitOfWork:
        if self._bound is not None:
            self._conn = self._bound
        else:
            assert self._engine is not None
            self._owned = self._engine.begin()
            self._conn = self._owned.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        owned, self._owned, self._conn = self._owned, None, None
        if owned is not None:
            owned.__exit__(exc_type, exc, tb)  # commit, or roll back on an exception

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return self._conn

    @property
    def repository(self) -> BonusRepository:
        return BonusRepository(self.conn)

    def claim(self, consumer: str, envelope: Envelope) -> bool:
        """Record the event as applied by `consumer` in this transaction; False if it was."""
        return inbox.claim(self.conn, consumer, envelope)

    def stage(self, event_name: str, payload: dict[str, Any]) -> Envelope:
        """Write an event to the outbox in this transaction (bonus produces none today)."""
        if self._outbox is None:
            raise RuntimeError("this unit of work has no outbox")
        return self._outbox.stage(self.conn, event_name, payload)
