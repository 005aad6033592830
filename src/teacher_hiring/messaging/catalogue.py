"""The generated documentation of the events: docs/events.md and docs/asyncapi.yaml.

Generated from the schema registry and `schemas/links.yaml`, never written by hand, so it
cannot drift from the schemas; a test compares the committed files with a fresh rendering.
"""

from __future__ import annotations

from typing import Any

from teacher_hiring.messaging import asyncapi
from teacher_hiring.messaging.link_table import Link
from teacher_hiring.messaging.registry import EventSpec, SchemaRegistry
from teacher_hiring.messaging.transport import dlq_topic

EVENTS_FILE = "events.md"
ASYNCAPI_FILE = "asyncapi.yaml"

HEADER = """# Event catalogue

Generated from `schemas/` (`events.yaml`, the JSON Schemas, `links.yaml`) by
`teacher-hiring catalogue --write`, together with `docs/asyncapi.yaml`, the same facts as an
AsyncAPI 3.0.0 document; do not edit. CI fails when either file is stale, and when a service
publishes or consumes an event that this catalogue does not list, or the catalogue lists a
producer or consumer that does not really publish or subscribe.

A record's body is exactly what its event's schema `schemas/<Event>/v<N>.json` describes, so a
standard JSON Schema validator accepts it as it is: the bare payload when the schema describes
the payload, the whole event (`event_id`, `event_version`, `event_name`, `produced_at`,
`payload`) when it describes the event whole. The rest of the event's attributes travel in
record headers, as CloudEvents' Kafka binding does: `ce_specversion` (`1.0`), `ce_id` (the
event id, UUID), `ce_type` (its name), `ce_source` (the producing service), `ce_time`
(RFC 3339), `ce_eventversion`, `ce_traceid` (the request that caused it), `ce_dataschema`
(`urn:teacher-hiring:event:<Event>:v<N>`) and `content-type`; a push over HTTP carries them as
`ce-` headers. Together they make the envelope of `schemas/envelope.json` that producers and
consumers work with. The partition key is a field of the payload: events with the same key
stay in order on one partition. A record that a consumer cannot parse, validate or apply
(after its retries) goes to `<topic>.dlq` with its reason.
"""


def documents(registry: SchemaRegistry, links: tuple[Link, ...]) -> dict[str, str]:
    """Every generated file of docs/, by file name."""
    return {
        EVENTS_FILE: render(registry, links),
        ASYNCAPI_FILE: asyncapi.render(registry, links),
    }


def render(registry: SchemaRegistry, links: tuple[Link, ...]) -> str:
    lines = [HEADER]
    lines += _links(links)
    lines += _topics(registry)
    lines += _services(registry)
    for spec in registry.events():
        lines += _event(registry, spec, links)
    return "\n".join(lines).rstrip() + "\n"


def _join(items: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"`{item}`" for item in items)


def _cell(text: str) -> str:
    return text.replace("|", "/")


def _links(links: tuple[Link, ...]) -> list[str]:
    lines = ["## Links between the services (SPEC section 4)", ""]
    lines += ["| link | what | from → to | form | endpoints and events | mode flag |"]
    lines += ["|---|---|---|---|---|---|"]
    for link in links:
        carried = [f"`{e.call}` on {e.service}" for e in link.endpoints]
        if link.events:
            carried.append(_join(link.events))
        flag = "—"
        if link.mode_flag is not None:
            f = link.mode_flag
            flag = (
                f"runtime flag `{f.flag}` on {f.service}, starting from `{f.setting}`: "
                f"{_join(f.modes)} ("
                + ", ".join(f"{name}: `{mode}`" for name, mode in f.presets)
                + ")"
            )
        lines.append(
            f"| {link.link} | {_cell(link.what)} | {link.source} → {', '.join(link.targets)} "
            f"| {_cell(link.form)} | {'; '.join(carried) or '—'} | {flag} |"
        )
    return [*lines, ""]


def _topics(registry: SchemaRegistry) -> list[str]:
    lines = ["## Topics", ""]
    lines += ["| topic | key | events | producers | consumers | dead letters |"]
    lines += ["|---|---|---|---|---|---|"]
    for topic in registry.topics():
        specs = registry.events_on_topic(topic)
        lines.append(
            f"| `{topic}` | {_join(sorted({s.key for s in specs}))} "
            f"| {_join([s.name for s in specs])} | {_join(sorted({s.producer for s in specs}))} "
            f"| {_join(sorted({c for s in specs for c in s.consumers}))} | `{dlq_topic(topic)}` |"
        )
    return [*lines, ""]


def _services(registry: SchemaRegistry) -> list[str]:
    specs = registry.events()
    services = sorted({s.producer for s in specs} | {c for s in specs for c in s.consumers})
    lines = ["## Services", "", "| service | produces | consumes |", "|---|---|---|"]
    for service in services:
        produces = [s.name for s in specs if s.producer == service]
        consumes = [s.name for s in specs if service in s.consumers]
        lines.append(f"| **{service}** | {_join(produces) or '—'} | {_join(consumes) or '—'} |")
    return [*lines, ""]


def _event(registry: SchemaRegistry, spec: EventSpec, links: tuple[Link, ...]) -> list[str]:
    used_by = [link.link for link in links if spec.name in link.events]
    scope = (
        "each file describes the payload, and a record's body is the payload"
        if spec.scope == "payload"
        else "each file describes the whole event, and a record's body is that whole event"
    )
    lines = [
        f"## {spec.name}",
        "",
        spec.description,
        "",
        f"- topic `{spec.topic}`, partition key `{spec.key}`, "
        f"dead letters `{dlq_topic(spec.topic)}`",
        f"- produced by **{spec.producer}**, consumed by "
        + ", ".join(f"**{c}**" for c in spec.consumers),
        f"- versions: {', '.join(f'v{v}' for v in spec.versions)};"
        f" compatibility {spec.compatibility}",
        f"- schemas: `schemas/{spec.name}/v<N>.json`; {scope}",
    ]
    if used_by:
        lines.append(f"- links: {', '.join(used_by)}")
    lines.append("")
    for version in spec.versions:
        schema = registry.schema(spec.name, version)
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        if spec.scope == "envelope":
            payload = properties.get("payload", {})
            properties, required = payload.get("properties", {}), set(payload.get("required", []))
        lines += [f"### {spec.name} v{version} payload", ""]
        lines += ["| field | type | required | description |", "|---|---|---|---|"]
        for name, prop in properties.items():
            lines.append(
                f"| `{name}` | {_type(prop)} | {'yes' if name in required else 'no'} "
                f"| {_cell(str(prop.get('description', '')))} |"
            )
        lines.append("")
    return lines


def _type(prop: dict[str, Any]) -> str:
    kind = prop.get("type", "any")
    if "enum" in prop:
        return " / ".join(f"`{v}`" for v in prop["enum"])
    if kind == "array":
        return f"array of {_type(prop.get('items', {}))}"
    if isinstance(kind, list):
        kind = " or ".join(str(k) for k in kind)
    if "format" in prop:
        return f"{kind} ({prop['format']})"
    return str(kind)
