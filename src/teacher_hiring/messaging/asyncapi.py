"""The AsyncAPI 3.0.0 document of the whole platform, generated from the schema registry.

Channels are the topics and their dead-letter topics; messages are the event versions, each
with the registry's JSON Schema as the record's payload (the record's body is exactly what
that schema describes, messaging.wire) and the CloudEvents attributes as its headers;
operations say which service sends and which receives each event.

AsyncAPI 3 describes one application, and this document describes three services at once, so
every operation is one (service, action, event), named `<service>.<send|receive>.<Event>`, with
its service in `x-service` and as its tag.

The registry's schemas are JSON Schema draft 2020-12, which AsyncAPI 3.0.0 has no format name
for (it knows draft-07). A schema that uses only keywords meaning the same in both drafts is
embedded as draft-07 (`application/schema+json;version=draft-07`), so AsyncAPI tools read and
check it; any other schema is embedded unchanged under `application/schema+json;version=2020-12`,
which the format's naming scheme gives but tools need not understand.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import yaml

from teacher_hiring.messaging import wire
from teacher_hiring.messaging.jsonschema_draft07 import draft07_differences, embed
from teacher_hiring.messaging.link_table import Link
from teacher_hiring.messaging.registry import EventSpec, SchemaRegistry
from teacher_hiring.messaging.transport import DLQ_HEADERS, dlq_topic

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
DEAD_LETTER = "DeadLetter"

HEADER = """\
# The platform's events as an AsyncAPI 3.0.0 document.
# Generated from schemas/ by `teacher-hiring catalogue --write`; do not edit.
"""

DESCRIPTION = """\
Every event of the teacher-hiring platform: the topics of its event log (channels), every \
version of every event with its JSON Schema (messages), and which of the three services sends \
and which receives it (operations).

AsyncAPI describes one application; this document describes the exercises, hiring and bonus \
services together. Each operation is one service sending or receiving one event, named \
`<service>.<send|receive>.<Event>`, with the service in `x-service` and as its tag; \
`<service>.dead-letter.<topic>` is a consumer setting aside a record it could not apply.

A message's payload is the record's body exactly as `schemas/<Event>/v<N>.json` (named in \
`x-schema-file`) describes it, so any JSON Schema validator accepts a record as it is: the \
bare payload for most events, the whole event for one whose schema describes it whole (the \
seed's ExerciseCompletedMoreThenTenTimes). What the body does not hold travels in headers, as \
CloudEvents' Kafka binding does in binary mode: `ce_id`, `ce_type` (the event's name), \
`ce_source` (the producing service), `ce_time`, `ce_eventversion`, `ce_traceid` and \
`ce_dataschema`; a push over HTTP carries the same attributes as `ce-` headers. The registry's \
schemas are JSON Schema draft 2020-12; one that uses only keywords meaning the same in draft-07 \
is embedded as draft-07, any other unchanged as `application/schema+json;version=2020-12`.

The partition key is a field of the payload (`x-partition-key`; its value is the Kafka key), so \
the events of one aggregate stay in order on one partition."""

SERVERS: dict[str, Any] = {
    "embedded": {
        "host": "localhost",
        "protocol": "sqlite",
        "title": "Embedded event log",
        "summary": "The default: one SQLite file shared by the services' processes.",
        "description": (
            "`*_EVENT_LOG_URL=sqlite:///var/events.db`. A durable log with Kafka's semantics: "
            "topics split into partitions by a hash of the key, offsets, consumer groups, "
            "at-least-once delivery; so the Kafka bindings and `x-partition-key` of the "
            "messages describe it too. AsyncAPI names no protocol for it: `sqlite` says how a "
            "client reaches it."
        ),
    },
    "kafka": {
        "host": "{bootstrap}",
        "protocol": "kafka",
        "title": "Apache Kafka",
        "summary": "The distributed deployment (`teacher-hiring run --distributed`).",
        "description": (
            "`*_EVENT_LOG_URL=kafka://host:port[,host:port]`. With `*_TOPIC_PREFIX` every "
            "topic and consumer group is put under that prefix."
        ),
        "variables": {
            "bootstrap": {
                "default": "127.0.0.1:9092",
                "description": "The bootstrap servers, as in the service's event log URL.",
            }
        },
    },
}


def _event_headers(spec: EventSpec, event_version: int) -> dict[str, Any]:
    """The record's headers (messaging.wire): CloudEvents' attributes in the Kafka binding."""

    def attribute(description: str, **more: Any) -> dict[str, Any]:
        return {"type": "string", "description": description, **more}

    return {
        "type": "object",
        "description": (
            "Record headers on the event log, as CloudEvents' Kafka binding spells them; a push "
            "over HTTP carries the same as `ce-` headers."
        ),
        "required": [*wire.EVENT_HEADERS, wire.CONTENT_TYPE_HEADER],
        "properties": {
            wire.SPECVERSION: attribute("CloudEvents version.", const=wire.SPEC_VERSION),
            wire.ID: attribute("The event's id; consumers drop redeliveries by it.", format="uuid"),
            wire.TYPE: attribute("The event's name.", const=spec.name),
            wire.SOURCE: attribute("The service that produced it.", const=spec.producer),
            wire.TIME: attribute("When the producer created it (RFC 3339).", format="date-time"),
            wire.EVENT_VERSION: attribute("The event's version.", const=str(event_version)),
            wire.TRACE_ID: attribute("The request that caused it, carried through its effects."),
            wire.DATASCHEMA: attribute(
                "The schema of the body.", const=wire.schema_urn(spec.name, event_version)
            ),
            wire.CONTENT_TYPE_HEADER: attribute("The body's type.", const=wire.CONTENT_TYPE),
        },
    }


_DEAD_LETTER_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "The original record's headers, and why and where it was set aside.",
    "required": list(DLQ_HEADERS),
    "properties": {
        "dlq_reason": {
            "type": "string",
            "description": "invalid: not an envelope, or not valid against its schema; "
            "failed: its handler kept failing after every retry.",
        },
        "dlq_error": {"type": "string", "description": "The error, cut at 2,000 characters."},
        "dlq_consumer": {"type": "string", "description": "The consumer group."},
        "dlq_service": {"type": "string", "description": "The service of that group."},
        "dlq_attempts": {"type": "string", "description": "How many times it was tried."},
        "original_topic": {"type": "string"},
        "original_partition": {"type": "string"},
        "original_offset": {"type": "string"},
        "dead_lettered_at": {"type": "string", "description": "Epoch seconds."},
    },
}


def message_id(name: str, event_version: int) -> str:
    return f"{name}.v{event_version}"


def package_version() -> str:
    try:
        return version("teacher-hiring")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


def render(registry: SchemaRegistry, links: tuple[Link, ...]) -> str:
    """The document as YAML: the same registry always gives the same text."""
    text = yaml.dump(
        build(registry, links),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return HEADER + text


def build(registry: SchemaRegistry, links: tuple[Link, ...]) -> dict[str, Any]:
    specs = sorted(registry.events(), key=lambda spec: spec.name)
    services = sorted({s.producer for s in specs} | {c for s in specs for c in s.consumers})
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Teacher-hiring platform events",
            "version": package_version(),
            "description": DESCRIPTION,
            "tags": [{"name": service} for service in services],
        },
        "defaultContentType": "application/json",
        "servers": SERVERS,
        "channels": _channels(registry),
        "operations": _operations(registry, specs),
        "components": {"messages": _messages(registry, specs, links)},
    }


class _Dumper(yaml.SafeDumper):
    """Writes a shared object out in full wherever it appears, never as a YAML alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _text)


def _ref(*parts: str) -> dict[str, str]:
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in parts)
    return {"$ref": "#/" + "/".join(escaped)}


def _channels(registry: SchemaRegistry) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    for topic in registry.topics():
        specs = sorted(registry.events_on_topic(topic), key=lambda spec: spec.name)
        keys = sorted({spec.key for spec in specs})
        channels[topic] = {
            "address": topic,
            "title": f"Topic {topic}",
            "description": (
                f"Keyed by {', '.join(keys)}. A record a consumer cannot apply goes to "
                f"`{dlq_topic(topic)}`."
            ),
            "messages": {
                message_id(spec.name, v): _ref("components", "messages", message_id(spec.name, v))
                for spec in specs
                for v in spec.versions
            },
        }
        channels[dlq_topic(topic)] = {
            "address": dlq_topic(topic),
            "title": f"Dead letters of {topic}",
            "description": (
                f"Records of `{topic}` that a consumer could not parse, validate or apply, "
                "kept unchanged with the reason in its headers."
            ),
            "messages": {DEAD_LETTER: _ref("components", "messages", DEAD_LETTER)},
            "x-dead-letters-of": topic,
        }
    return dict(sorted(channels.items()))


def _operations(registry: SchemaRegistry, specs: list[EventSpec]) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for spec in specs:
        messages = [
            _ref("channels", spec.topic, "messages", message_id(spec.name, v))
            for v in spec.versions
        ]
        sides = [("send", spec.producer)] + [("receive", c) for c in spec.consumers]
        for action, service in sides:
            verb = "sends" if action == "send" else "receives"
            operations[f"{service}.{action}.{spec.name}"] = {
                "action": action,
                "channel": _ref("channels", spec.topic),
                "title": f"{service} {verb} {spec.name}",
                "summary": spec.description,
                "messages": messages,
                "tags": [{"name": service}],
                "x-service": service,
            }
    for topic in registry.topics():
        consumers = {c for spec in registry.events_on_topic(topic) for c in spec.consumers}
        for service in sorted(consumers):
            operations[f"{service}.dead-letter.{topic}"] = {
                "action": "send",
                "channel": _ref("channels", dlq_topic(topic)),
                "title": f"{service} sets aside a record of {topic}",
                "messages": [_ref("channels", dlq_topic(topic), "messages", DEAD_LETTER)],
                "tags": [{"name": service}],
                "x-service": service,
            }
    return dict(sorted(operations.items()))


def _messages(
    registry: SchemaRegistry, specs: list[EventSpec], links: tuple[Link, ...]
) -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for spec in specs:
        link_names = [link.link for link in links if spec.name in link.events]
        for v in spec.versions:
            messages[message_id(spec.name, v)] = _event_message(registry, spec, v, link_names)
    messages[DEAD_LETTER] = _dead_letter_message()
    return dict(sorted(messages.items()))


def _event_message(
    registry: SchemaRegistry, spec: EventSpec, event_version: int, link_names: list[str]
) -> dict[str, Any]:
    consumers = ", ".join(spec.consumers)
    return {
        "name": spec.name,
        "title": f"{spec.name} v{event_version}",
        "summary": spec.description,
        "description": (
            f"Produced by {spec.producer}, consumed by {consumers}; topic `{spec.topic}`, "
            f"partition key `{spec.key}`; compatibility {spec.compatibility}."
        ),
        "contentType": "application/json",
        "headers": embed(_event_headers(spec, event_version)),
        "payload": embed(registry.schema(spec.name, event_version)),
        "correlationId": {
            "description": "The trace id of the request that caused the event.",
            "location": f"$message.header#/{wire.TRACE_ID}",
        },
        "bindings": {
            "kafka": {
                "key": _key_schema(registry, spec, event_version),
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "x-partition-key": spec.key,
        "x-event-name": spec.name,
        "x-event-version": event_version,
        "x-producer": spec.producer,
        "x-consumers": list(spec.consumers),
        "x-compatibility": spec.compatibility,
        "x-schema-file": f"schemas/{spec.name}/v{event_version}.json",
        "x-links": link_names,
    }


def _key_schema(registry: SchemaRegistry, spec: EventSpec, event_version: int) -> dict[str, Any]:
    """The Kafka key: the payload's key field, as the registry's schema describes it."""
    schema = registry.schema(spec.name, event_version)
    if spec.scope == "envelope":
        schema = schema.get("properties", {}).get("payload", {})
    field = schema.get("properties", {}).get(spec.key, {})
    key: dict[str, Any] = {"type": "string"}
    if field.get("type") == "string" and not draft07_differences(field):
        key = {name: value for name, value in field.items() if name != "description"}
    key["description"] = f"The payload's {spec.key}: events with the same key stay in order."
    return key


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": DEAD_LETTER,
        "title": "Dead letter",
        "summary": "A record a consumer set aside, unchanged, with the reason in its headers.",
        "headers": embed(_DEAD_LETTER_HEADERS),
        "payload": embed(
            {
                "description": "The original record's value, byte for byte: the body of one of "
                "the topic's messages, or whatever a record that could not be parsed held."
            }
        ),
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The original record's key."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }
