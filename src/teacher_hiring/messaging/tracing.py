"""The trace id that follows a request through every event it causes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

from teacher_hiring.foundation.ids import new_trace_id

_current: ContextVar[str | None] = ContextVar("trace_id", default=None)


def current_trace_id() -> str:
    """The active trace id, or a new one when nothing started a trace."""
    return _current.get() or new_trace_id()


@contextmanager
def traced(trace_id: str | None) -> Iterator[str]:
    """Run a block under a trace id, visible to the outbox and to every log line."""
    value = trace_id or new_trace_id()
    token = _current.set(value)
    with structlog.contextvars.bound_contextvars(trace_id=value):
        try:
            yield value
        finally:
            _current.reset(token)
