"""The AsyncAPI document: valid AsyncAPI 3.0.0, and saying what the registry says."""

from __future__ import annotations

import copy
import json
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import pytest
import yaml
from event_examples import EXAMPLE_PAYLOADS, example_envelope

from teacher_hiring.messaging import asyncapi
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.jsonschema_draft07 import (
    DRAFT_07_FORMAT,
    DRAFT_2020_12,
    DRAFT_2020_12_FORMAT,
    draft07_differences,
    embed,
)
from teacher_hiring.messaging.link_table import Link, load_links
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.transport import dlq_topic
from teacher_hiring.messaging.wire import RecordCodec

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas"
ASYNCAPI_SCHEMA = Path(__file__).parent / "asyncapi_spec" / "3.0.0.json"


@cache
def official_validator() -> jsonschema_rs.Validator:
    def no_network(uri: str) -> Any:
        raise ValueError(f"{uri}: the bundled AsyncAPI schema should hold every definition")

    schema = json.loads(ASYNCAPI_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema_rs.validator_for(schema, retriever=no_network)


def asyncapi_errors(document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.instance_path))}: {e.message[:300]}"
        for e in official_validator().iter_errors(document)
    ]


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load(SCHEMAS)


@pytest.fixture(scope="module")
def links(registry: SchemaRegistry) -> tuple[Link, ...]:
    return load_links(registry, SCHEMAS)


@pytest.fixture(scope="module")
def document(registry: SchemaRegistry, links: tuple[Link, ...]) -> dict[str, Any]:
    """What docs/asyncapi.yaml holds: the rendered YAML, read back."""
    loaded = yaml.safe_load(asyncapi.render(registry, links))
    assert isinstance(loaded, dict)
    return loaded


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


# --- valid AsyncAPI 3.0.0 ------------------------------------------------------------------------


def test_the_document_is_valid_against_the_official_asyncapi_3_0_0_schema(
    document: dict[str, Any],
) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert asyncapi_errors(document) == []


@pytest.mark.parametrize(
    "case",
    ["operation without action", "server without protocol", "schema with a numeric type"],
)
def test_the_official_schema_refuses_a_broken_document(document: dict[str, Any], case: str) -> None:
    broken = copy.deepcopy(document)
    if case == "operation without action":
        del broken["operations"]["hiring.send.BonusAdded"]["action"]
    elif case == "server without protocol":
        del broken["servers"]["kafka"]["protocol"]
    else:
        payload = broken["components"]["messages"]["BonusAdded.v0"]["payload"]["schema"]
        payload["properties"]["manager_id"]["type"] = 17
    assert asyncapi_errors(broken) != []


def test_the_document_is_the_same_on_every_rendering(
    registry: SchemaRegistry, links: tuple[Link, ...]
) -> None:
    assert asyncapi.render(registry, links) == asyncapi.render(SchemaRegistry.load(SCHEMAS), links)


def test_every_reference_points_into_the_document(document: dict[str, Any]) -> None:
    found = refs(document["channels"]) + refs(document["operations"])
    assert found
    for ref in found:
        resolve(document, ref)


def test_the_document_names_the_package_version(document: dict[str, Any]) -> None:
    assert document["info"]["version"] == asyncapi.package_version()


# --- the registry's facts ------------------------------------------------------------------------


def test_every_event_version_is_a_message_of_its_topic_keyed_by_its_partition_key(
    registry: SchemaRegistry, document: dict[str, Any]
) -> None:
    for spec in registry.events():
        channel = document["channels"][spec.topic]
        assert channel["address"] == spec.topic
        for version in spec.versions:
            name = asyncapi.message_id(spec.name, version)
            message = resolve(document, channel["messages"][name]["$ref"])
            assert message["name"] == spec.name
            assert message["title"] == f"{spec.name} v{version}"
            assert message["x-partition-key"] == spec.key
            assert message["bindings"]["kafka"]["key"]["type"] == "string"
            assert message["x-producer"] == spec.producer
            assert message["x-consumers"] == list(spec.consumers)
            assert message["correlationId"]["location"] == "$message.header#/ce_traceid"
            headers = message["headers"]["schema"]["properties"]
            assert headers["ce_type"]["const"] == spec.name
            assert headers["ce_eventversion"]["const"] == str(version)
            assert headers["ce_source"]["const"] == spec.producer
            assert message["payload"]["schema"]["title"] == spec.name


def test_each_topic_has_its_dead_letter_channel(
    registry: SchemaRegistry, document: dict[str, Any]
) -> None:
    topics = registry.topics()
    assert set(document["channels"]) == set(topics) | {dlq_topic(t) for t in topics}
    for topic in topics:
        dead = document["channels"][dlq_topic(topic)]
        assert dead["address"] == dlq_topic(topic)
        assert list(dead["messages"]) == [asyncapi.DEAD_LETTER]


def test_one_send_per_producer_and_one_receive_per_consumer_of_each_event(
    registry: SchemaRegistry, document: dict[str, Any]
) -> None:
    expected: dict[str, tuple[str, str, str]] = {}
    for spec in registry.events():
        expected[f"{spec.producer}.send.{spec.name}"] = ("send", spec.producer, spec.topic)
        for consumer in spec.consumers:
            expected[f"{consumer}.receive.{spec.name}"] = ("receive", consumer, spec.topic)
            dead = f"{consumer}.dead-letter.{spec.topic}"
            expected[dead] = ("send", consumer, dlq_topic(spec.topic))
    operations = document["operations"]
    assert set(operations) == set(expected)
    for key, (action, service, channel) in expected.items():
        operation = operations[key]
        assert operation["action"] == action
        assert operation["x-service"] == service
        assert operation["tags"] == [{"name": service}]
        assert operation["channel"] == {"$ref": f"#/channels/{channel}"}
        for ref in operation["messages"]:
            assert ref["$ref"].startswith(f"#/channels/{channel}/messages/")


def test_a_dead_letter_carries_every_header_the_consumer_runner_writes(
    document: dict[str, Any],
) -> None:
    from teacher_hiring.messaging.consumer import ConsumerRunner, Subscription
    from teacher_hiring.messaging.transport import OutgoingMessage, Producer, Record

    sent: list[OutgoingMessage] = []

    class Capture(Producer):
        def send(self, messages: Any) -> None:
            sent.extend(messages)

    runner = ConsumerRunner("bonus", Subscription("bonus.money", {}), None, None, None)  # type: ignore[arg-type]
    runner._dlq = Capture()
    record = Record("money", 0, 7, "m-1", b"{}", {}, 0)
    runner._dead_letter(record, "invalid", "not JSON", attempts=0)
    headers = document["components"]["messages"][asyncapi.DEAD_LETTER]["headers"]["schema"]
    assert set(sent[0].headers) == set(headers["required"])
    assert set(headers["required"]) <= set(headers["properties"])


# --- the schemas inside ------------------------------------------------------------------------


def test_a_schema_is_embedded_as_draft_07_exactly_when_it_means_the_same_there(
    document: dict[str, Any],
) -> None:
    formats = set()
    for message in document["components"]["messages"].values():
        for part in ("headers", "payload"):
            embedded = message[part]
            same = not draft07_differences(embedded["schema"])
            expected = DRAFT_07_FORMAT if same else DRAFT_2020_12_FORMAT
            assert embedded["schemaFormat"] == expected, message["title"]
            formats.add(embedded["schemaFormat"])
    assert DRAFT_07_FORMAT in formats


@pytest.mark.parametrize(("name", "version"), sorted(EXAMPLE_PAYLOADS))
def test_the_embedded_schema_accepts_what_the_registry_accepts(
    registry: SchemaRegistry, document: dict[str, Any], name: str, version: int
) -> None:
    # Every example is of a version the registry holds: an example of a dropped version
    # would otherwise test nothing here.
    assert version in registry.spec(name).versions, f"{name} v{version} is not in the registry"
    message = document["components"]["messages"][asyncapi.message_id(name, version)]
    body_schema, headers_schema = message["payload"]["schema"], message["headers"]["schema"]
    body_validator = jsonschema_rs.validator_for(body_schema)
    headers_validator = jsonschema_rs.Draft7Validator(headers_schema)
    event = example_envelope(name, version)
    registry.validate(event)
    value, headers = RecordCodec(registry).encode(Envelope.from_dict(event))
    body = orjson.loads(value)
    assert body_validator.is_valid(body)
    assert headers_validator.is_valid(headers)
    assert not headers_validator.is_valid({**headers, "ce_eventversion": str(version + 1)})
    assert not headers_validator.is_valid({k: v for k, v in headers.items() if k != "ce_traceid"})
    if body_schema.get("additionalProperties") is False:
        assert not body_validator.is_valid({**body, "unexpected": 1})


@pytest.mark.parametrize(
    ("schema", "where"),
    [
        ({"$defs": {"id": {"type": "string"}}}, "#/$defs"),
        ({"properties": {"a": {"$ref": "#/$defs/id"}}}, "#/properties/a/$ref"),
        ({"prefixItems": [{"type": "string"}]}, "#/prefixItems"),
        ({"anyOf": [{"unevaluatedProperties": False}]}, "#/anyOf/0/unevaluatedProperties"),
        ({"dependentRequired": {"a": ["b"]}}, "#/dependentRequired"),
        ({"items": {"minContains": 1}}, "#/items/minContains"),
    ],
)
def test_a_keyword_that_differs_in_draft_07_keeps_the_schema_in_2020_12(
    schema: dict[str, Any], where: str
) -> None:
    differences = draft07_differences({"$schema": DRAFT_2020_12, **schema})
    assert [d.split(":")[0] for d in differences] == [where]
    embedded = embed({"$schema": DRAFT_2020_12, **schema})
    assert embedded["schemaFormat"] == DRAFT_2020_12_FORMAT
    assert embedded["schema"]["$schema"] == DRAFT_2020_12


def test_any_number_of_versions_and_a_2020_12_only_schema_still_make_valid_asyncapi(
    tmp_path: Path, registry: SchemaRegistry
) -> None:
    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, folder)
    spec = registry.spec("BonusAdded")
    latest = registry.schema("BonusAdded", spec.latest_version)
    for extra in (1, 2):
        version = spec.latest_version + extra
        schema = copy.deepcopy(latest)
        schema["$id"] = f"urn:teacher-hiring:event:BonusAdded:v{version}"
        if extra == 2:  # a shared definition: draft 2020-12 only
            schema["$defs"] = {"id": {"type": "string", "minLength": 1}}
            schema["properties"]["candidate_id"] = {"$ref": "#/$defs/id"}
        (folder / "BonusAdded" / f"v{version}.json").write_text(json.dumps(schema))
    grown = SchemaRegistry.load(folder)
    document = yaml.safe_load(asyncapi.render(grown, load_links(grown, folder)))
    assert asyncapi_errors(document) == []
    versions = grown.spec("BonusAdded").versions
    names = [asyncapi.message_id("BonusAdded", v) for v in versions]
    assert [n for n in document["channels"]["money"]["messages"] if n.startswith("Bonus")] == names
    sent = document["operations"]["hiring.send.BonusAdded"]["messages"]
    assert [ref["$ref"].rsplit("/", 1)[1] for ref in sent] == names
    formats = [document["components"]["messages"][n]["payload"]["schemaFormat"] for n in names]
    assert formats == [DRAFT_07_FORMAT] * (len(names) - 1) + [DRAFT_2020_12_FORMAT]
