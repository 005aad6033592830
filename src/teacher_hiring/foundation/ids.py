"""New identifiers: of aggregates and events (UUID text), and of traces (32 hex digits)."""

from __future__ import annotations

import uuid


def new_id() -> str:
    """A random UUID in its canonical text form: the id of an aggregate or an event."""
    return str(uuid.uuid4())


def new_trace_id() -> str:
    """A random trace id: 32 lowercase hex digits (a W3C trace-id's shape)."""
    return uuid.uuid4().hex
