"""One transaction per command, with the outbox written on the same connection."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine

from teacher_hiring.hiring.adapters.repository import HiringRepository
from teacher_hiring.hiring.service_layer.events import EventVersions
from teacher_hiring.messaging import inbox
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.outbox import Outbox
from teacher_hiring.money import issued
from teacher_hiring.runtime.clock import Clock, system_clock


class UnitOfWork:
    """`with uow:` opens a transaction that commits only if the block ends normally.

    Bound to an existing connection (a consumer's, whose runner owns the transaction) it opens
    nothing and leaves commit and rollback to the owner. It may be entered again afterwards;
    each `with` is a new transaction.

    `clock` gives the handlers' "now" (the outbox's by default). `versions` says which version
    of each switchable family to produce; it is asked only when such an event is staged, so a
    submission that stages none never reads the operator's flags.
    """

    def __init__(
        self,
        engine: Engine | None,
        outbox: Outbox | None,
        conn: Connection | None = None,
        *,
        clock: Clock | None = None,
        versions: Callable[[], EventVersions] = EventVersions,
    ):
        self._engine = engine
        self._outbox = outbox
        self._bound = conn
        self.clock: Clock = clock or (outbox.clock if outbox is not None else system_clock)
        self.versions = versions
        self._stack: ExitStack | None = None
        self._conn: Connection | None = None
        self._repo: HiringRepository | None = None
        self.staged: list[Envelope] = []  # the events of the last transaction, in order

    @classmethod
    def on_connection(
        cls, conn: Connection, outbox: Outbox | None = None, clock: Clock | None = None
    ) -> UnitOfWork:
        return cls(None, outbox, conn, clock=clock)

    def __enter__(self) -> Self:
        self.staged = []
        if self._bound is not None:
            self._conn = self._bound
        else:
            assert self._engine is not None
            self._stack = ExitStack()
            self._conn = self._stack.enter_context(self._engine.begin())
        self._repo = HiringRepository(self._conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        self._conn = self._repo = None
        if stack is not None:
            stack.__exit__(exc_type, exc, traceback)

    @property
    def repo(self) -> HiringRepository:
        assert self._repo is not None, "use the unit of work inside `with uow:`"
        return self._repo

    @property
    def conn(self) -> Connection:
        assert self._conn is not None, "use the unit of work inside `with uow:`"
        return self._conn

    def stage(
        self, event_name: str, payload: dict[str, Any], *, version: int | None = None
    ) -> Envelope:
        """Write the event to the outbox in this transaction (validated first), at `version`,
        else at the outbox's version of it; a money event is also kept in the record of
        issued money that reconciliation reads."""
        if self._outbox is None:
            raise RuntimeError("this unit of work was built without an outbox")
        envelope = self._outbox.stage(self.conn, event_name, payload, version=version)
        issued.keep(self.conn, envelope)
        self.staged.append(envelope)
        return envelope

    def claim(self, consumer: str, envelope: Envelope) -> bool:
        """Record the event as applied by `consumer` in this transaction; False if it was."""
        return inbox.claim(self.conn, consumer, envelope)
