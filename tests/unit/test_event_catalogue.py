"""The committed event catalogue is the one the schemas generate today."""

from __future__ import annotations

from pathlib import Path

from teacher_hiring.messaging.catalogue import render
from teacher_hiring.messaging.registry import SchemaRegistry

CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_docs_events_md_is_up_to_date_with_the_schemas() -> None:
    expected = render(SchemaRegistry.load())
    assert CATALOGUE.read_text(encoding="utf-8") == expected, (
        "docs/events.md is stale: run `teacher-hiring catalogue --write docs/events.md`"
    )


def test_the_catalogue_lists_every_event_with_its_topic_and_key() -> None:
    registry = SchemaRegistry.load()
    text = render(registry)
    for spec in registry.events():
        assert f"## {spec.name}" in text
        assert f"topic `{spec.topic}`, partition key `{spec.key}`" in text
