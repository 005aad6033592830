"""New identifiers: of aggregates and events (UUID text), and of traces (32 hex digits)."""

from __future__ import annotations

import functools
import os
import uuid


def new_id() -> str:
    """A random UUID in its canonical text form: the id of an aggregate or an event."""
    return str(uuid.uuid4())


def new_trace_id() -> str:
    """A random trace id: 32 lowercase hex digits (a W3C trace-id's shape)."""
    return uuid.uuid4().hex


INSTANCE_ENV = "TEACHER_HIRING_INSTANCE_ID"
INSTANCE_HEADER = "X-Instance-Id"


@functools.cache
def instance_id() -> str:
    """This process's id, shown on its probes: whoever started it (`run`, the tests) sets
    `TEACHER_HIRING_INSTANCE_ID` and so knows that the process answering on the address is
    the one it started, not another that held the port first."""
    return os.environ.get(INSTANCE_ENV) or uuid.uuid4().hex
