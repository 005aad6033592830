"""How an event is laid out on a transport: the body as its schema says, the rest in headers.

A record's body is what the registry's schema for the event and version describes, and nothing
more, so an outside consumer can validate it as it is with any JSON Schema validator:

- an event whose catalogue scope is `payload` (its schema describes the payload) travels as the
  bare payload;
- an event whose scope is `envelope` (its schema describes the whole event, as the seed's
  ExerciseCompletedMoreThenTenTimes does) travels as the fields that schema names, nothing else.

What is not the event itself (who produced it, the request that caused it) and what a bare
payload cannot say (its id, name, version, time) goes into headers, the way CloudEvents' Kafka
binding does in binary mode: `ce_id`, `ce_type`, `ce_source`, `ce_time`, two extension
attributes `ce_eventversion` and `ce_traceid`, and `ce_dataschema` naming the schema. Over HTTP
(a link that pushes events) the same attributes are `ce-` headers.

Records written before this layout carry the whole envelope in the body and no `ce_specversion`
header; `decode` still reads them, so a log that holds both drains without a step of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from teacher_hiring.messaging.envelope import Envelope, MalformedEvent
from teacher_hiring.messaging.registry import SchemaRegistry

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

SPECVERSION = "ce_specversion"
ID = "ce_id"
TYPE = "ce_type"
SOURCE = "ce_source"
TIME = "ce_time"
EVENT_VERSION = "ce_eventversion"
TRACE_ID = "ce_traceid"
DATASCHEMA = "ce_dataschema"
CONTENT_TYPE_HEADER = "content-type"

EVENT_HEADERS = (SPECVERSION, ID, TYPE, SOURCE, TIME, EVENT_VERSION, TRACE_ID, DATASCHEMA)
"""The headers this module writes (with content-type); a record's other headers are not its."""

_HTTP_PREFIX = "ce-"
_LOG_PREFIX = "ce_"


def schema_urn(event_name: str, event_version: int) -> str:
    """The `$id` the registry gives the schema of this event and version."""
    return f"urn:teacher-hiring:event:{event_name}:v{event_version}"


class RecordCodec:
    """Turns envelopes into record bodies and headers, and records (of either layout) back."""

    def __init__(self, registry: SchemaRegistry) -> None:
        self.registry = registry

    # --- writing ---------------------------------------------------------------------------------

    def encode(self, envelope: Envelope) -> tuple[bytes, dict[str, str]]:
        """The record's body and its headers (log spelling: `ce_id`, ...)."""
        fields = self.registry.body_fields(envelope.event_name, envelope.event_version)
        if fields is None:
            body = orjson.dumps(envelope.payload)
        else:
            whole = envelope.as_dict()
            body = orjson.dumps({name: whole[name] for name in fields})
        return body, headers_of(envelope)

    def encode_stored(self, stored: bytes) -> tuple[bytes, dict[str, str]]:
        """The same for an envelope as the outbox stores it (its whole JSON)."""
        return self.encode(Envelope.from_json(stored))

    # --- reading ---------------------------------------------------------------------------------

    def decode(self, value: bytes, headers: Mapping[str, str]) -> Envelope:
        """The envelope a record carries, whichever layout it was written in.

        Raises MalformedEvent for bytes that are neither layout, and UnknownEvent (a
        SchemaViolation) for a name or version the registry does not know.
        """
        if SPECVERSION not in headers:
            return Envelope.from_json(value)  # written before the body became the event alone
        try:
            name, version_text = headers[TYPE], headers[EVENT_VERSION]
        except KeyError as exc:
            raise MalformedEvent(f"header {exc.args[0]} is missing") from None
        try:
            version = int(version_text)
        except ValueError:
            raise MalformedEvent(f"header {EVENT_VERSION} is not an integer") from None
        try:
            body = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise MalformedEvent(f"not valid JSON: {exc}") from exc
        attributes: dict[str, Any] = {
            "event_id": headers.get(ID),
            "event_version": version,
            "event_name": name,
            "produced_at": headers.get(TIME),
            "producer": headers.get(SOURCE),
            "trace_id": headers.get(TRACE_ID),
        }
        fields = self.registry.body_fields(name, version)
        if fields is None:
            return Envelope.from_dict({**attributes, "payload": body})
        if not isinstance(body, dict):
            raise MalformedEvent("the body of an event described whole must be a JSON object")
        strangers = sorted(set(body) - set(fields))
        if strangers:
            raise MalformedEvent(
                f"the body has fields its schema does not describe: {', '.join(strangers)}"
            )
        for field in fields:
            said = attributes.get(field)
            if field in body and said is not None and body[field] != said:
                raise MalformedEvent(
                    f"{field}: the body says {body[field]!r}, the headers {said!r}"
                )
        return Envelope.from_dict({**attributes, **body})

    def decode_http(self, body: bytes, headers: Mapping[str, str]) -> Envelope:
        """The envelope an HTTP push carries: `ce-` headers, or the whole envelope as before."""
        return self.decode(body, from_http_headers(headers))


def headers_of(envelope: Envelope) -> dict[str, str]:
    return {
        SPECVERSION: SPEC_VERSION,
        ID: envelope.event_id,
        TYPE: envelope.event_name,
        SOURCE: envelope.producer,
        TIME: envelope.produced_at,
        EVENT_VERSION: str(envelope.event_version),
        TRACE_ID: envelope.trace_id,
        DATASCHEMA: schema_urn(envelope.event_name, envelope.event_version),
        CONTENT_TYPE_HEADER: CONTENT_TYPE,
    }


def to_http_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """CloudEvents' HTTP binding spells the attributes `ce-id`, ...; content-type stays."""
    return {
        (_HTTP_PREFIX + key[len(_LOG_PREFIX) :] if key.startswith(_LOG_PREFIX) else key): value
        for key, value in headers.items()
    }


def from_http_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The attributes of an HTTP request's `ce-` headers, in the log's spelling."""
    found: dict[str, str] = {}
    for key, value in headers.items():
        lowered = key.lower()
        if lowered.startswith(_HTTP_PREFIX):
            found[_LOG_PREFIX + lowered[len(_HTTP_PREFIX) :]] = value
    return found
