"""Confluent's JSON Schema compatibility rules: one small schema pair per rule, every mode."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teacher_hiring.messaging.compatibility import (
    MODES,
    DifferenceType,
    check,
    comparable,
    is_compatible,
)

T = DifferenceType
S: dict[str, Any] = {"type": "string"}
I: dict[str, Any] = {"type": "integer"}  # noqa: E741


def obj(
    properties: dict[str, Any], required: tuple[str, ...] = (), additional: Any = None
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if additional is not None:
        schema["additionalProperties"] = additional
    return schema


def closed(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return obj(properties, required, additional=False)


def field(schema: dict[str, Any]) -> dict[str, Any]:
    """A one-property closed object, so a rule about a keyword shows at #/properties/v/..."""
    return closed({"v": schema}, ("v",))


@dataclass(frozen=True)
class Rule:
    name: str
    old: dict[str, Any]
    new: dict[str, Any]
    change: DifferenceType  # what the new schema, reading old data, reports
    backward: bool  # new reads old
    forward: bool  # old reads new


RULES = [
    # content models: adding properties
    Rule("optional property added to a closed model", closed({"a": S}), closed({"a": S, "b": S}),
         T.OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, backward=True, forward=False),
    Rule("optional property added to an open model", obj({"a": S}), obj({"a": S, "b": S}),
         T.OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL, backward=False, forward=True),
    Rule("required property without default added to a closed model", closed({"a": S}),
         closed({"a": S, "b": S}, ("b",)),
         T.REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, backward=False, forward=False),
    Rule("required property with default added to a closed model", closed({"a": S}),
         closed({"a": S, "b": {**S, "default": "x"}}, ("b",)),
         T.REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL, backward=True,
         forward=False),
    Rule("required property with default added to an open model", obj({"a": S}),
         obj({"a": S, "b": {**S, "default": "x"}}, ("b",)),
         T.REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL, backward=False,
         forward=True),
    Rule("required property without default added to an open model", obj({"a": S}),
         obj({"a": S, "b": S}, ("b",)),
         T.REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL, backward=False, forward=True),
    Rule("property with an empty schema added to an open model", obj({"a": S}),
         obj({"a": S, "b": {"description": "anything"}}),
         T.PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL, backward=True, forward=True),
    # content models: removing properties
    Rule("optional property removed from a closed model", closed({"a": S, "b": S}),
         closed({"a": S}), T.PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL, backward=False,
         forward=True),
    Rule("property removed from an open model", obj({"a": S, "b": S}), obj({"a": S}),
         T.PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL, backward=True, forward=False),
    Rule("property declared false removed from a closed model", closed({"a": S, "b": False}),
         closed({"a": S}), T.PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL,
         backward=True, forward=True),
    # partially open content models
    Rule("property added, covered by additionalProperties",
         obj({"a": S}, additional=S), obj({"a": S, "b": S}, additional=S),
         T.PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, backward=True,
         forward=True),
    Rule("property added, not covered by additionalProperties",
         obj({"a": S}, additional=S), obj({"a": S, "b": I}, additional=S),
         T.PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, backward=False,
         forward=False),
    # required attributes
    Rule("required property made optional", closed({"a": S}, ("a",)), closed({"a": S}),
         T.REQUIRED_ATTRIBUTE_REMOVED, backward=True, forward=False),
    Rule("optional property made required, no default", closed({"a": S}),
         closed({"a": S}, ("a",)), T.REQUIRED_ATTRIBUTE_ADDED, backward=False, forward=True),
    Rule("optional property made required with a default", closed({"a": S}),
         closed({"a": {**S, "default": "x"}}, ("a",)),
         T.REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED, backward=True, forward=True),
    # additionalProperties
    Rule("closed model opened", closed({"a": S}), obj({"a": S}, additional=True),
         T.ADDITIONAL_PROPERTIES_ADDED, backward=True, forward=False),
    Rule("open model constrained", obj({"a": S}), obj({"a": S}, additional=S),
         T.ADDITIONAL_PROPERTIES_NARROWED, backward=False, forward=True),
    Rule("additionalProperties widened", obj({}, additional=S),
         obj({}, additional={"type": ["string", "integer"]}), T.TYPE_EXTENDED, backward=True,
         forward=False),
    # types
    Rule("integer widened to number", field(I), field({"type": "number"}), T.TYPE_EXTENDED,
         backward=True, forward=False),
    Rule("string made nullable", field(S), field({"type": ["string", "null"]}),
         T.TYPE_EXTENDED, backward=True, forward=False),
    Rule("string changed to integer", field(S), field(I), T.TYPE_CHANGED, backward=False,
         forward=False),
    # enums and consts
    Rule("enum extended", field({**S, "enum": ["a"]}), field({**S, "enum": ["a", "b"]}),
         T.ENUM_ARRAY_EXTENDED, backward=True, forward=False),
    Rule("enum changed", field({**S, "enum": ["a", "b"]}), field({**S, "enum": ["a", "c"]}),
         T.ENUM_ARRAY_CHANGED, backward=False, forward=False),
    Rule("enum added", field(S), field({**S, "enum": ["a"]}), T.ENUM_ARRAY_NARROWED,
         backward=False, forward=True),
    Rule("const changed", field({"const": 0}), field({"const": 1}), T.ENUM_ARRAY_CHANGED,
         backward=False, forward=False),
    Rule("const relaxed to an enum holding it", field({"const": "a"}),
         field({"enum": ["a", "b"]}), T.ENUM_ARRAY_EXTENDED, backward=True, forward=False),
    # strings
    Rule("maxLength increased", field({**S, "maxLength": 5}), field({**S, "maxLength": 9}),
         T.MAX_LENGTH_INCREASED, backward=True, forward=False),
    Rule("maxLength added", field(S), field({**S, "maxLength": 5}), T.MAX_LENGTH_ADDED,
         backward=False, forward=True),
    Rule("minLength increased", field({**S, "minLength": 1}), field({**S, "minLength": 2}),
         T.MIN_LENGTH_INCREASED, backward=False, forward=True),
    Rule("pattern added", field(S), field({**S, "pattern": "^a"}), T.PATTERN_ADDED,
         backward=False, forward=True),
    Rule("format added", field(S), field({**S, "format": "email"}), T.FORMAT_ADDED,
         backward=False, forward=True),
    # numbers
    Rule("maximum decreased", field({**I, "maximum": 9}), field({**I, "maximum": 5}),
         T.MAXIMUM_DECREASED, backward=False, forward=True),
    Rule("minimum decreased", field({**I, "minimum": 1}), field({**I, "minimum": 0}),
         T.MINIMUM_DECREASED, backward=True, forward=False),
    Rule("exclusiveMinimum removed", field({**I, "exclusiveMinimum": 0}), field(I),
         T.EXCLUSIVE_MINIMUM_REMOVED, backward=True, forward=False),
    Rule("multipleOf reduced", field({**I, "multipleOf": 4}), field({**I, "multipleOf": 2}),
         T.MULTIPLE_OF_REDUCED, backward=True, forward=False),
    Rule("multipleOf changed", field({**I, "multipleOf": 2}), field({**I, "multipleOf": 3}),
         T.MULTIPLE_OF_CHANGED, backward=False, forward=False),
    # nested objects and arrays
    Rule("required property added to a nested closed object",
         closed({"inner": closed({"a": S})}),
         closed({"inner": closed({"a": S, "b": S}, ("b",))}),
         T.REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, backward=False, forward=False),
    Rule("array items widened", field({"type": "array", "items": I}),
         field({"type": "array", "items": {"type": "number"}}), T.TYPE_EXTENDED,
         backward=True, forward=False),
    Rule("optional property added to closed array items",
         field({"type": "array", "items": closed({"a": S})}),
         field({"type": "array", "items": closed({"a": S, "b": S})}),
         T.OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, backward=True, forward=False),
    Rule("maxItems decreased", field({"type": "array", "maxItems": 3}),
         field({"type": "array", "maxItems": 2}), T.MAX_ITEMS_DECREASED, backward=False,
         forward=True),
    Rule("uniqueItems added", field({"type": "array"}),
         field({"type": "array", "uniqueItems": True}), T.UNIQUE_ITEMS_ADDED, backward=False,
         forward=True),
    # annotations, references, what is not modelled
    Rule("description changed", field({**S, "description": "old"}),
         field({**S, "description": "new"}), T.DESCRIPTION_CHANGED, backward=True,
         forward=True),
    Rule("a referenced definition gains maxLength",
         {**field({"$ref": "#/$defs/name"}), "$defs": {"name": S}},
         {**field({"$ref": "#/$defs/name"}), "$defs": {"name": {**S, "maxLength": 5}}},
         T.MAX_LENGTH_ADDED, backward=False, forward=True),
    Rule("an unresolvable reference changes", field({"$ref": "https://example.com/a"}),
         field({"$ref": "https://example.com/b"}), T.KEYWORD_CHANGED, backward=False,
         forward=False),
    Rule("a keyword the check does not model changes", field({**S, "not": {"const": "a"}}),
         field({**S, "not": {"const": "b"}}), T.KEYWORD_CHANGED, backward=False,
         forward=False),
]  # fmt: skip


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_each_rule_reports_its_change_and_verdict_in_every_mode(rule: Rule) -> None:
    found = {difference.type for difference in check(reader=rule.new, writer=rule.old)}
    assert rule.change in found, found
    expected = {
        "BACKWARD": rule.backward,
        "FORWARD": rule.forward,
        "FULL": rule.backward and rule.forward,
        "NONE": True,
    }
    for mode in MODES:
        result = is_compatible(mode, rule.new, [rule.old])
        verdict = expected[mode.removesuffix("_TRANSITIVE")]
        assert result.compatible is verdict, (mode, result.messages)
        assert bool(result.messages) is not verdict


def test_a_refusal_names_the_direction_the_version_the_change_and_the_field() -> None:
    old, new = closed({"name": S}, ("name",)), closed({"first_name": S}, ("first_name",))
    result = is_compatible("FULL", new, [old])
    assert not result.compatible
    assert (
        "BACKWARD: the new schema cannot read data written with v0: "
        "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL at #/properties/name"
    ) in result.messages[0]
    assert any(
        message.startswith("FORWARD: v0 cannot read data written with the new schema")
        and "#/properties/first_name" in message
        for message in result.messages
    )


def test_transitive_modes_check_every_older_version_the_others_only_the_latest() -> None:
    v0 = closed({"name": S}, ("name",))
    v1 = closed({"first_name": S}, ("first_name",))  # broke v0 while the event was NONE
    v2 = closed({"first_name": S, "nickname": S}, ("first_name",))
    assert is_compatible("BACKWARD", v2, [v0, v1]).compatible
    transitive = is_compatible("BACKWARD_TRANSITIVE", v2, [v0, v1])
    assert not transitive.compatible
    assert all("written with v0" in message for message in transitive.messages)
    assert not is_compatible("FULL_TRANSITIVE", v2, [v0, v1]).compatible
    assert is_compatible("NONE", v2, [v0, v1]).compatible


def test_a_recursive_schema_is_compared_to_the_end() -> None:
    def tree(value: dict[str, Any]) -> dict[str, Any]:
        return closed({"value": value, "children": {"type": "array", "items": {"$ref": "#"}}})

    old, new = tree(I), tree({"type": "number"})
    assert {d.type for d in check(reader=new, writer=old)} == {T.TYPE_EXTENDED}
    assert is_compatible("BACKWARD", new, [old]).compatible
    assert not is_compatible("FORWARD", new, [old]).compatible


def test_a_first_version_is_compatible_with_nothing_to_compare() -> None:
    assert is_compatible("FULL_TRANSITIVE", closed({"a": S}), []).compatible


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown compatibility mode 'SIDEWAYS'"):
        is_compatible("SIDEWAYS", S, [S])


EVENT_V0: dict[str, Any] = {
    "type": "object",
    "required": ["event_id", "event_version", "event_name", "payload"],
    "properties": {
        "event_id": S,
        "event_version": {"type": "integer", "const": 0},
        "event_name": {"type": "string", "const": "ExerciseCompletedMoreThenTenTimes"},
        "payload": closed({"exercise_id": S}, ("exercise_id",)),
    },
    "additionalProperties": False,
}


def test_whole_event_schemas_compare_without_their_own_version_pin() -> None:
    v1 = copy.deepcopy(EVENT_V0)
    v1["properties"]["event_version"]["const"] = 1
    v1["properties"]["payload"]["properties"]["title"] = S
    assert [d.type for d in check(reader=v1, writer=EVENT_V0)] == [
        T.OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL
    ]
    assert is_compatible("BACKWARD", v1, [EVENT_V0]).compatible


def test_a_payload_schema_is_compared_with_the_payload_of_a_whole_event_schema() -> None:
    payload_v1 = closed({"exercise_id": S, "title": S}, ("exercise_id",))
    reader, writer = comparable(payload_v1, EVENT_V0)
    assert writer == EVENT_V0["properties"]["payload"]
    assert reader is payload_v1
    assert is_compatible("BACKWARD", payload_v1, [EVENT_V0]).compatible
    assert not is_compatible("FORWARD", payload_v1, [EVENT_V0]).compatible


# --- properties -------------------------------------------------------------------------------

NAMES = ("a", "b", "c", "d", "e")
WORDS = ("x", "y", "z")


@st.composite
def leaves(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["string", "integer", "number", "nullable", "enum"]))
    if kind == "enum":
        return {"type": "string", "enum": sorted(draw(st.sets(st.sampled_from(WORDS), min_size=1)))}
    if kind == "nullable":
        return {"type": ["string", "null"]}
    schema: dict[str, Any] = {"type": kind}
    if kind == "string" and draw(st.booleans()):
        schema["maxLength"] = draw(st.integers(2, 6))
    if kind == "integer" and draw(st.booleans()):
        schema["minimum"] = draw(st.integers(-3, 3))
    return schema


def objects(depth: int = 1) -> st.SearchStrategy[dict[str, Any]]:
    values = leaves() if depth == 0 else st.one_of(leaves(), leaves(), objects(depth - 1))

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        properties = draw(st.dictionaries(st.sampled_from(NAMES), values, max_size=4))
        required = sorted(draw(st.sets(st.sampled_from(sorted(properties) or ["a"]))))
        additional = draw(st.sampled_from([None, True, False]))
        schema = obj(properties, tuple(k for k in required if k in properties), additional)
        for key in schema.get("required", []):
            if draw(st.booleans()):
                properties[key] = {**properties[key], "default": draw(instances(properties[key]))}
        return schema

    return build()


def instances(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Documents valid under a schema of the grammar above."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema["type"]
    if kind == ["string", "null"]:
        return st.one_of(st.none(), st.text(max_size=4))
    if kind == "string":
        return st.text(max_size=schema.get("maxLength", 8))
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum"), max_value=50)
    if kind == "number":
        return st.one_of(st.integers(-50, 50), st.floats(-50, 50, allow_nan=False))
    return _object_instances(schema)


@st.composite
def _object_instances(draw: st.DrawFn, schema: dict[str, Any]) -> dict[str, Any]:
    properties, required = schema["properties"], set(schema.get("required", []))
    document = {
        key: draw(instances(sub))
        for key, sub in properties.items()
        if key in required or draw(st.booleans())
    }
    if schema.get("additionalProperties", True) is not False:
        free = [name for name in NAMES if name not in properties]
        extra = draw(st.dictionaries(st.sampled_from(free or ["q"]), st.integers(), max_size=2))
        document.update(extra)
    return document


@st.composite
def evolutions(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """An old schema and a new one: a few edits away, or drawn afresh."""
    old = draw(objects())
    new = copy.deepcopy(old)
    for _ in range(draw(st.integers(1, 3))):
        properties, required = new["properties"], new.setdefault("required", [])
        edit = draw(st.sampled_from(["add", "remove", "require", "retype", "content", "fresh"]))
        name = draw(st.sampled_from(NAMES))
        if edit == "add":
            properties[name] = draw(leaves())
            if draw(st.booleans()):
                properties[name]["default"] = draw(instances(properties[name]))
                new["required"] = sorted({*required, name})
        elif edit == "remove":
            properties.pop(name, None)
            new["required"] = [key for key in required if key != name]
        elif edit == "require" and name in properties:
            new["required"] = sorted(set(required) ^ {name})
        elif edit == "retype" and name in properties:
            properties[name] = draw(leaves())
        elif edit == "content":
            new["additionalProperties"] = draw(st.booleans())
        elif edit == "fresh":
            new = draw(objects())
    return old, new


def with_defaults(schema: Any, document: Any) -> Any:
    """What a consumer does before reading: fill the defaults of missing required properties."""
    if not isinstance(schema, dict) or not isinstance(document, dict):
        return document
    properties = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in document and "default" in properties.get(key, {}):
            document[key] = copy.deepcopy(properties[key]["default"])
    for key, sub in properties.items():
        if key in document:
            document[key] = with_defaults(sub, document[key])
    return document


QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(objects())
def test_a_schema_is_fully_compatible_with_itself(schema: dict[str, Any]) -> None:
    assert check(reader=schema, writer=schema) == []
    assert is_compatible("FULL_TRANSITIVE", schema, [schema, schema]).compatible


@QUICK
@given(evolutions())
def test_backward_from_old_to_new_is_forward_from_new_to_old(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    old, new = pair
    assert (
        is_compatible("BACKWARD", new, [old]).compatible
        == is_compatible("FORWARD", old, [new]).compatible
    )
    assert is_compatible("FULL", new, [old]).compatible == (
        is_compatible("BACKWARD", new, [old]).compatible
        and is_compatible("FORWARD", new, [old]).compatible
    )


@QUICK
@given(evolutions(), st.data())
def test_a_backward_compatible_reader_accepts_every_document_the_old_writer_accepts(
    pair: tuple[dict[str, Any], dict[str, Any]], data: st.DataObject
) -> None:
    old, new = pair
    if not is_compatible("BACKWARD", new, [old]).compatible:
        return
    document = data.draw(instances(old))
    assert jsonschema_rs.validator_for(old).is_valid(document), (old, document)
    filled = with_defaults(new, copy.deepcopy(document))
    errors = [error.message for error in jsonschema_rs.validator_for(new).iter_errors(filled)]
    assert not errors, (old, new, document, errors)
