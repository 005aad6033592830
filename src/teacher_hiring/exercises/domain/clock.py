"""Times: stored as epoch seconds, written in events and responses as RFC 3339 UTC with Z."""

from __future__ import annotations

from datetime import UTC, datetime


def to_rfc3339(epoch_s: float) -> str:
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def from_rfc3339(text: str) -> float:
    """Epoch seconds of an RFC 3339 time; a time without an offset is taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
