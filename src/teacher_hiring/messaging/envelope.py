"""The envelope every event travels in (SPEC section 5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from teacher_hiring.foundation.ids import new_id, new_trace_id
from teacher_hiring.foundation.time import now_rfc3339

ENVELOPE_FIELDS = (
    "event_id",
    "event_version",
    "event_name",
    "produced_at",
    "producer",
    "trace_id",
    "payload",
)


class MalformedEvent(ValueError):
    """The bytes on the wire are not an envelope (bad JSON, not an object, missing fields)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    event_id: str
    event_version: int
    event_name: str
    produced_at: str
    producer: str
    trace_id: str
    payload: dict[str, Any] = field(hash=False)

    @classmethod
    def new(
        cls,
        event_name: str,
        event_version: int,
        payload: dict[str, Any],
        *,
        producer: str,
        trace_id: str | None = None,
        produced_at: str | None = None,
    ) -> Envelope:
        return cls(
            event_id=new_id(),
            event_version=event_version,
            event_name=event_name,
            produced_at=produced_at or now_rfc3339(),
            producer=producer,
            trace_id=trace_id or new_trace_id(),
            payload=payload,
        )

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ENVELOPE_FIELDS}

    def to_json(self) -> bytes:
        return orjson.dumps(self.as_dict())

    def with_payload(self, event_version: int, payload: dict[str, Any]) -> Envelope:
        """A copy carrying an upcast payload; the identity (event_id, trace_id) is kept."""
        return Envelope(
            event_id=self.event_id,
            event_version=event_version,
            event_name=self.event_name,
            produced_at=self.produced_at,
            producer=self.producer,
            trace_id=self.trace_id,
            payload=payload,
        )

    @classmethod
    def from_dict(cls, data: Any) -> Envelope:
        if not isinstance(data, dict):
            raise MalformedEvent("an event must be a JSON object")
        missing = [name for name in ENVELOPE_FIELDS if name not in data]
        if missing:
            raise MalformedEvent(f"envelope is missing {', '.join(missing)}")
        payload = data["payload"]
        version = data["event_version"]
        if not isinstance(payload, dict):
            raise MalformedEvent("payload must be a JSON object")
        if not isinstance(version, int) or isinstance(version, bool):
            raise MalformedEvent("event_version must be an integer")
        for name in ("event_id", "event_name", "produced_at", "producer", "trace_id"):
            if not isinstance(data[name], str):
                raise MalformedEvent(f"{name} must be a string")
        return cls(
            event_id=data["event_id"],
            event_version=version,
            event_name=data["event_name"],
            produced_at=data["produced_at"],
            producer=data["producer"],
            trace_id=data["trace_id"],
            payload=payload,
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Envelope:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise MalformedEvent(f"not valid JSON: {exc}") from exc
        return cls.from_dict(data)
