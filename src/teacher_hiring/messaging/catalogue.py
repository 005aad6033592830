"""The event catalogue in Markdown, generated from the schema registry (docs/events.md).

Generated, never written by hand, so it cannot drift from the schemas; a test compares the
committed file with a fresh rendering.
"""

from __future__ import annotations

from typing import Any

from teacher_hiring.messaging.registry import EventSpec, SchemaRegistry
from teacher_hiring.messaging.transport import dlq_topic

HEADER = """# Event catalogue

Generated from `schemas/` by `teacher-hiring catalogue --write docs/events.md`; do not edit.
Every event travels in the envelope of `schemas/envelope.json`: `event_id` (UUID),
`event_version`, `event_name`, `produced_at` (RFC 3339), `producer`, `trace_id`, `payload`.
A record that a consumer cannot parse or validate goes to `<topic>.dlq` with its reason.
"""


def render(registry: SchemaRegistry) -> str:
    lines = [HEADER, "## Topics", ""]
    lines += ["| topic | key | events | producers | consumers | dead letters |"]
    lines += ["|---|---|---|---|---|---|"]
    for topic in registry.topics():
        specs = registry.events_on_topic(topic)
        lines.append(
            f"| `{topic}` | {_join(sorted({s.key for s in specs}))} "
            f"| {_join([s.name for s in specs])} | {_join(sorted({s.producer for s in specs}))} "
            f"| {_join(sorted({c for s in specs for c in s.consumers}))} | `{dlq_topic(topic)}` |"
        )
    lines.append("")
    for spec in registry.events():
        lines += _event(registry, spec)
    return "\n".join(lines).rstrip() + "\n"


def _join(items: list[str]) -> str:
    return ", ".join(f"`{item}`" for item in items)


def _event(registry: SchemaRegistry, spec: EventSpec) -> list[str]:
    lines = [
        f"## {spec.name}",
        "",
        spec.description,
        "",
        f"- topic `{spec.topic}`, partition key `{spec.key}`",
        f"- produced by **{spec.producer}**, consumed by "
        + ", ".join(f"**{c}**" for c in spec.consumers),
        f"- versions: {', '.join(f'v{v}' for v in spec.versions)};"
        f" compatibility {spec.compatibility}",
        "",
    ]
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
                f"| {str(prop.get('description', '')).replace('|', '/')} |"
            )
        lines.append("")
    return lines


def _type(prop: dict[str, Any]) -> str:
    kind = prop.get("type", "any")
    if "enum" in prop:
        return " / ".join(f"`{v}`" for v in prop["enum"])
    if kind == "array":
        return f"array of {_type(prop.get('items', {}))}"
    if "format" in prop:
        return f"{kind} ({prop['format']})"
    return str(kind)
