"""Choosing the transport from a URL, so deployment is configuration, not code."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from teacher_hiring.messaging.embedded_log import EmbeddedLog
from teacher_hiring.messaging.transport import Transport


def make_transport(url: str, *, partitions: int) -> Transport:
    """`sqlite:///var/events.db` is the embedded log."""
    if url.startswith("sqlite:"):
        path = make_url(url).database
        if not path:
            raise ValueError(f"event_log_url: {url!r} names no file")
        return EmbeddedLog(path, default_partitions=partitions)
    raise ValueError(f"event_log_url: unsupported transport {url!r} (use sqlite:///<file>)")
