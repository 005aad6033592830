"""Accepted answers leave exercises for hiring only: no event that carries them, nor any event
on their topic, is consumed by another service, and no link takes them elsewhere.

Walks the real registry (schemas/events.yaml and every version's schema) and the link table,
so a new event, version, consumer or link that would carry the answers fails here.
"""

from __future__ import annotations

from typing import Any

from teacher_hiring.messaging.link_table import load_links
from teacher_hiring.messaging.registry import SchemaRegistry

SECRET_FIELD = "accepted_answers"
ONLY_READER = {"hiring"}


def field_names(schema: Any) -> set[str]:
    """Every property name anywhere in a JSON Schema (nested objects, items, combinations)."""
    if isinstance(schema, list):
        return set().union(*(field_names(item) for item in schema))
    if not isinstance(schema, dict):
        return set()
    names = set(schema.get("properties", {}))
    for value in schema.values():
        names |= field_names(value)
    return names


def carrying(registry: SchemaRegistry) -> set[str]:
    return {
        spec.name
        for spec in registry.events()
        if any(SECRET_FIELD in field_names(registry.schema(spec.name, v)) for v in spec.versions)
    }


def test_the_walk_finds_the_exercise_events_that_carry_the_answers() -> None:
    assert carrying(SchemaRegistry.load()) == {"ExerciseCreated", "ExerciseUpdated"}


def test_no_service_but_hiring_consumes_an_event_with_accepted_answers() -> None:
    registry = SchemaRegistry.load()

    readers = {name: set(registry.spec(name).consumers) for name in carrying(registry)}

    assert all(consumers <= ONLY_READER for consumers in readers.values()), readers


def test_no_service_but_hiring_reads_a_topic_that_carries_them() -> None:
    """A consumer of a topic receives every event on it, whatever it then ignores."""
    registry = SchemaRegistry.load()
    topics = {registry.spec(name).topic for name in carrying(registry)}

    readers = {
        topic: set().union(*(set(spec.consumers) for spec in registry.events_on_topic(topic)))
        for topic in topics
    }

    assert all(consumers <= ONLY_READER for consumers in readers.values()), readers


def test_no_link_takes_them_to_another_service() -> None:
    registry = SchemaRegistry.load()
    secret = carrying(registry)

    elsewhere = [
        (link.link, link.targets)
        for link in load_links(registry)
        if secret & set(link.events) and not set(link.targets) <= ONLY_READER
    ]

    assert elsewhere == []
