"""One transaction per command: a state change and its outbox rows commit together, or neither.

The one unit of work of every service. A service supplies only its repositories, as a
function of the connection (its repository class, such as hiring's `HiringRepository`); the
unit of work holds the transaction, stages events in the outbox on the same connection and
claims events in the inbox. Nothing here knows a service.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from sqlalchemy import Connection, Engine, RootTransaction

from teacher_hiring.foundation.time import Clock, system_clock
from teacher_hiring.messaging import inbox
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.outbox import Outbox

R = TypeVar("R")


class UnitOfWork(Generic[R]):
    """`with uow:` begins a transaction; `uow.commit()` commits it, and a block left without
    a commit (returned early, or raised) rolls it back.

    `UnitOfWork.joining(conn, ...)` works in a transaction someone else owns (the consumer
    runner that claimed the event, and its savepoint when it applies events one by one): it
    opens nothing, its `commit()` does nothing, and the owner commits or rolls back.

    A unit of work may be entered again after its block ends; each `with` is a new
    transaction. `repo` is the service's repositories on this transaction's connection;
    `clock` gives the handlers' "now" (the outbox's unless given); `staged` holds the events
    of the last transaction, in order, still readable after the block.
    """

    def __init__(
        self,
        engine: Engine | None,
        repositories: Callable[[Connection], R],
        *,
        outbox: Outbox | None = None,
        clock: Clock | None = None,
        joined: Connection | None = None,
    ) -> None:
        """Owns a transaction on `engine` per `with`; or, given `joined` (see `joining`),
        works in the transaction the caller owns on that connection."""
        if (engine is None) == (joined is None):
            raise ValueError("give an engine or a joined connection, not both")
        self._engine = engine
        self._joined = joined
        self._repositories = repositories
        self._outbox = outbox
        self.clock: Clock = clock or (outbox.clock if outbox is not None else system_clock)
        self._transaction: RootTransaction | None = None
        self._conn: Connection | None = None
        self._repo: R | None = None
        self.staged: list[Envelope] = []

    @classmethod
    def joining(
        cls,
        conn: Connection,
        repositories: Callable[[Connection], R],
        *,
        outbox: Outbox | None = None,
        clock: Clock | None = None,
    ) -> UnitOfWork[R]:
        """A unit of work in the transaction the caller owns on `conn`."""
        return cls(None, repositories, outbox=outbox, clock=clock, joined=conn)

    def __enter__(self) -> Self:
        assert self._conn is None, "a unit of work runs one transaction at a time"
        self.staged = []
        if self._joined is not None:
            conn = self._joined
        else:
            assert self._engine is not None
            conn = self._engine.connect()
            try:
                self._transaction = conn.begin()
            except BaseException:
                conn.close()
                raise
        self._conn = conn
        self._repo = self._repositories(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        conn, transaction = self._conn, self._transaction
        self._conn = self._repo = self._transaction = None
        if transaction is not None and conn is not None:
            conn.close()  # rolls back the transaction unless it was committed

    def commit(self) -> None:
        """Commit the transaction (a joined unit of work leaves that to the owner)."""
        assert self._conn is not None, "commit inside `with uow:`"
        if self._transaction is not None:
            self._transaction.commit()

    @property
    def repo(self) -> R:
        assert self._repo is not None, "use the unit of work inside `with uow:`"
        return self._repo

    @property
    def conn(self) -> Connection:
        assert self._conn is not None, "use the unit of work inside `with uow:`"
        return self._conn

    def stage(
        self, event_name: str, payload: dict[str, Any], *, version: int | None = None
    ) -> Envelope:
        """Write the event to the outbox in this transaction (validated against its schema),
        at `version`, else at the outbox's version of it; the outbox's keepers record it too
        (a money event in the record of issued money that reconciliation reads)."""
        if self._outbox is None:
            raise RuntimeError("this unit of work was built without an outbox")
        envelope = self._outbox.stage(self.conn, event_name, payload, version=version)
        self.staged.append(envelope)
        return envelope

    def claim(self, consumer: str, envelope: Envelope) -> bool:
        """Record the event as applied by `consumer` in this transaction; False if it was."""
        return inbox.claim(self.conn, consumer, envelope)
