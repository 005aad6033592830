"""Whether a new version of an event's schema may join the old ones (SPEC 5), by Confluent's rules.

Rule table followed: Confluent Schema Registry's JSON Schema diff, package
`io.confluent.kafka.schemaregistry.json.diff` (the change names of `Difference.Type` and the
set `SchemaDiff.COMPATIBLE_CHANGES`), summarised on Confluent's "JSON Schema Serializer and
Deserializer" page (section "JSON Schema compatibility rules"); the modes are those of its
"Schema Evolution and Compatibility" page. docs/registry.md lists the whole table.

Every diff compares a *reader* with a *writer*: can a consumer holding the reader schema accept
every document valid under the writer schema? BACKWARD asks it with the new schema as reader and
the latest old one as writer, FORWARD the other way round, FULL both ways; the _TRANSITIVE forms
ask it of every older version instead of the latest only; NONE never asks.

Open and closed content models decide what adding or removing a property means: a writer with
an open model (additionalProperties absent or true) may already have written any name with any
value, so a reader cannot start constraining a new name; a reader with a closed model
(additionalProperties false) refuses any name it does not declare, so it cannot drop one the
writer writes. A property the reader requires is acceptable only if the writer always writes it,
or the reader has a `default` for it (consumers fill defaults, as the upcasters do).

Deliberate departures from the reference implementation, all towards refusing more or naming
the change better:
- an `enum` or `const` added beside a type is ENUM_ARRAY_NARROWED, one removed is
  ENUM_ARRAY_EXTENDED (the reference reports both as TYPE_CHANGED, an effect of how its schema
  library splits keywords); `const` is compared as a one-value enum;
- `format` is compared (FORMAT_ADDED and FORMAT_CHANGED are incompatible): our registry
  validates formats, so a reader that adds one refuses documents the writer accepted;
- a property added to an open writer that the reader requires without a default is refused even
  when its schema is empty;
- type unions and `integer` inside `number` are compared as sets of JSON types: wider is
  TYPE_EXTENDED, narrower TYPE_NARROWED, neither TYPE_CHANGED;
- a keyword this module does not model (allOf, anyOf, oneOf, not, if/then/else, prefixItems,
  contains, dependentRequired, ...) that differs between the two schemas is KEYWORD_CHANGED,
  incompatible, so nothing passes unexamined; none of our schemas uses them.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum, auto
from fractions import Fraction
from typing import Any

from teacher_hiring.messaging.envelope import ENVELOPE_FIELDS
from teacher_hiring.messaging.registry import COMPATIBILITY_MODES, SchemaRegistry

MODES = tuple(sorted(COMPATIBILITY_MODES))  # BACKWARD, BACKWARD_TRANSITIVE, ..., NONE


class DifferenceType(StrEnum):
    """The kinds of change between a writer and a reader schema (Confluent's names, plus ours)."""

    @staticmethod
    def _generate_next_value_(name: str, start: int, count: int, last_values: list[Any]) -> str:
        return name

    ID_CHANGED = auto()
    DESCRIPTION_CHANGED = auto()
    TITLE_CHANGED = auto()
    DEFAULT_CHANGED = auto()
    SCHEMA_ADDED = auto()
    SCHEMA_REMOVED = auto()
    TYPE_EXTENDED = auto()
    TYPE_NARROWED = auto()
    TYPE_CHANGED = auto()
    MAX_LENGTH_ADDED = auto()
    MAX_LENGTH_REMOVED = auto()
    MAX_LENGTH_INCREASED = auto()
    MAX_LENGTH_DECREASED = auto()
    MIN_LENGTH_ADDED = auto()
    MIN_LENGTH_REMOVED = auto()
    MIN_LENGTH_INCREASED = auto()
    MIN_LENGTH_DECREASED = auto()
    PATTERN_ADDED = auto()
    PATTERN_REMOVED = auto()
    PATTERN_CHANGED = auto()
    FORMAT_ADDED = auto()
    FORMAT_REMOVED = auto()
    FORMAT_CHANGED = auto()
    MAXIMUM_ADDED = auto()
    MAXIMUM_REMOVED = auto()
    MAXIMUM_INCREASED = auto()
    MAXIMUM_DECREASED = auto()
    MINIMUM_ADDED = auto()
    MINIMUM_REMOVED = auto()
    MINIMUM_INCREASED = auto()
    MINIMUM_DECREASED = auto()
    EXCLUSIVE_MAXIMUM_ADDED = auto()
    EXCLUSIVE_MAXIMUM_REMOVED = auto()
    EXCLUSIVE_MAXIMUM_INCREASED = auto()
    EXCLUSIVE_MAXIMUM_DECREASED = auto()
    EXCLUSIVE_MINIMUM_ADDED = auto()
    EXCLUSIVE_MINIMUM_REMOVED = auto()
    EXCLUSIVE_MINIMUM_INCREASED = auto()
    EXCLUSIVE_MINIMUM_DECREASED = auto()
    MULTIPLE_OF_ADDED = auto()
    MULTIPLE_OF_REMOVED = auto()
    MULTIPLE_OF_EXPANDED = auto()
    MULTIPLE_OF_REDUCED = auto()
    MULTIPLE_OF_CHANGED = auto()
    REQUIRED_ATTRIBUTE_ADDED = auto()
    REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED = auto()
    REQUIRED_ATTRIBUTE_REMOVED = auto()
    MAX_PROPERTIES_ADDED = auto()
    MAX_PROPERTIES_REMOVED = auto()
    MAX_PROPERTIES_INCREASED = auto()
    MAX_PROPERTIES_DECREASED = auto()
    MIN_PROPERTIES_ADDED = auto()
    MIN_PROPERTIES_REMOVED = auto()
    MIN_PROPERTIES_INCREASED = auto()
    MIN_PROPERTIES_DECREASED = auto()
    ADDITIONAL_PROPERTIES_ADDED = auto()
    ADDITIONAL_PROPERTIES_REMOVED = auto()
    ADDITIONAL_PROPERTIES_EXTENDED = auto()
    ADDITIONAL_PROPERTIES_NARROWED = auto()
    REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL = auto()
    REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL = auto()
    OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL = auto()
    PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL = auto()
    REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL = auto()
    REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL = auto()
    OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL = auto()
    PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL = auto()
    PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL = auto()
    PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL = auto()
    PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = auto()
    PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = auto()
    PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = auto()
    PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = auto()
    MAX_ITEMS_ADDED = auto()
    MAX_ITEMS_REMOVED = auto()
    MAX_ITEMS_INCREASED = auto()
    MAX_ITEMS_DECREASED = auto()
    MIN_ITEMS_ADDED = auto()
    MIN_ITEMS_REMOVED = auto()
    MIN_ITEMS_INCREASED = auto()
    MIN_ITEMS_DECREASED = auto()
    UNIQUE_ITEMS_ADDED = auto()
    UNIQUE_ITEMS_REMOVED = auto()
    ENUM_ARRAY_EXTENDED = auto()
    ENUM_ARRAY_NARROWED = auto()
    ENUM_ARRAY_CHANGED = auto()
    KEYWORD_CHANGED = auto()


_T = DifferenceType
COMPATIBLE_CHANGES = frozenset(
    {
        *(_T.ID_CHANGED, _T.DESCRIPTION_CHANGED, _T.TITLE_CHANGED, _T.DEFAULT_CHANGED),
        *(_T.SCHEMA_REMOVED, _T.TYPE_EXTENDED, _T.ENUM_ARRAY_EXTENDED),
        *(_T.MAX_LENGTH_INCREASED, _T.MAX_LENGTH_REMOVED, _T.MIN_LENGTH_DECREASED),
        *(_T.MIN_LENGTH_REMOVED, _T.PATTERN_REMOVED, _T.FORMAT_REMOVED),
        *(_T.MAXIMUM_INCREASED, _T.MAXIMUM_REMOVED, _T.MINIMUM_DECREASED, _T.MINIMUM_REMOVED),
        *(_T.EXCLUSIVE_MAXIMUM_INCREASED, _T.EXCLUSIVE_MAXIMUM_REMOVED),
        *(_T.EXCLUSIVE_MINIMUM_DECREASED, _T.EXCLUSIVE_MINIMUM_REMOVED),
        *(_T.MULTIPLE_OF_REDUCED, _T.MULTIPLE_OF_REMOVED),
        *(_T.REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED, _T.REQUIRED_ATTRIBUTE_REMOVED),
        *(_T.MAX_PROPERTIES_INCREASED, _T.MAX_PROPERTIES_REMOVED),
        *(_T.MIN_PROPERTIES_DECREASED, _T.MIN_PROPERTIES_REMOVED),
        *(_T.ADDITIONAL_PROPERTIES_ADDED, _T.ADDITIONAL_PROPERTIES_EXTENDED),
        _T.PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL,
        _T.REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL,
        _T.OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL,
        _T.PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL,
        _T.PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL,
        _T.PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
        _T.PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
        *(_T.MAX_ITEMS_INCREASED, _T.MAX_ITEMS_REMOVED, _T.MIN_ITEMS_DECREASED),
        *(_T.MIN_ITEMS_REMOVED, _T.UNIQUE_ITEMS_REMOVED),
    }
)

_OPEN_WRITER = "the writer's content model is open, so its data may already hold this name"
_WHY: dict[DifferenceType, str] = {
    _T.SCHEMA_ADDED: "the reader constrains what the writer left free",
    _T.TYPE_NARROWED: "the reader accepts fewer types than the writer",
    _T.TYPE_CHANGED: "the reader and the writer allow different types",
    _T.ENUM_ARRAY_NARROWED: "the reader accepts fewer values than the writer",
    _T.ENUM_ARRAY_CHANGED: "the reader and the writer allow different values",
    _T.REQUIRED_ATTRIBUTE_ADDED: "the reader requires a property the writer may omit, "
    "with no default",
    _T.REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL: "the reader requires a new property "
    "with no default, and the writer never writes it",
    _T.PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL: "the reader's content model is closed and "
    "lacks a property the writer writes",
    _T.REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL: _OPEN_WRITER,
    _T.REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL: _OPEN_WRITER,
    _T.OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL: _OPEN_WRITER,
    _T.ADDITIONAL_PROPERTIES_REMOVED: "the reader refuses undeclared properties the writer allowed",
    _T.ADDITIONAL_PROPERTIES_NARROWED: "the reader constrains undeclared properties the writer "
    "left free",
    _T.KEYWORD_CHANGED: "a keyword this check does not model differs; review it by hand",
}


@dataclass(frozen=True, slots=True)
class Difference:
    """One change between a writer and a reader schema, at a JSON pointer into the schema."""

    type: DifferenceType
    path: str

    @property
    def compatible(self) -> bool:
        return self.type in COMPATIBLE_CHANGES

    def describe(self) -> str:
        if self.compatible:
            return f"{self.type} at {self.path}"
        why = _WHY.get(self.type, "the reader is stricter than the writer here")
        return f"{self.type} at {self.path} ({why})"


@dataclass(frozen=True, slots=True)
class Result:
    """The verdict on a new schema under a mode, with one message per incompatible change."""

    compatible: bool
    messages: list[str]


@dataclass(frozen=True, slots=True)
class VersionCheck:
    """One version of one event checked against its older versions under the event's mode."""

    event: str
    version: int
    mode: str
    result: Result


def check(reader: Any, writer: Any) -> list[Difference]:
    """Every difference met when a consumer holding `reader` reads data written with `writer`."""
    reader, writer = comparable(reader, writer)
    diff = _Diff(writer, reader)
    diff.compare(writer, reader, "#")
    return diff.found


def is_compatible(mode: str, new: Any, previous_versions: Sequence[Any]) -> Result:
    """Whether `new` may follow `previous_versions` (oldest first: v0, v1, ...) under `mode`."""
    if mode not in MODES:
        raise ValueError(f"unknown compatibility mode {mode!r} (known: {', '.join(MODES)})")
    if mode == "NONE" or not previous_versions:
        return Result(True, [])
    against = list(enumerate(previous_versions))
    if not mode.endswith("_TRANSITIVE"):
        against = against[-1:]
    base = mode.removesuffix("_TRANSITIVE")
    messages: list[str] = []
    for version, old in against:
        if base in ("BACKWARD", "FULL"):
            messages += [
                f"BACKWARD: the new schema cannot read data written with v{version}: "
                + difference.describe()
                for difference in check(reader=new, writer=old)
                if not difference.compatible
            ]
        if base in ("FORWARD", "FULL"):
            messages += [
                f"FORWARD: v{version} cannot read data written with the new schema: "
                + difference.describe()
                for difference in check(reader=old, writer=new)
                if not difference.compatible
            ]
    return Result(not messages, messages)


def check_registry(
    registry: SchemaRegistry, names: Iterable[str] | None = None
) -> list[VersionCheck]:
    """Each version after v0 of each event (or of `names`) against the older ones."""
    specs = registry.events() if names is None else [registry.spec(name) for name in names]
    checks: list[VersionCheck] = []
    for spec in specs:
        schemas = [registry.schema(spec.name, version) for version in spec.versions]
        for version in spec.versions[1:]:
            result = is_compatible(spec.compatibility, schemas[version], schemas[:version])
            checks.append(VersionCheck(spec.name, version, spec.compatibility, result))
    return checks


def check_candidate(
    registry: SchemaRegistry, name: str, schema: Any, mode: str | None = None
) -> Result:
    """Would `schema` be accepted as the next version of `name` (under its mode, or `mode`)?"""
    spec = registry.spec(name)
    previous = [registry.schema(name, version) for version in spec.versions]
    return is_compatible(mode or spec.compatibility, schema, previous)


def comparable(reader: Any, writer: Any) -> tuple[Any, Any]:
    """Like with like: two whole-event schemas, or two payload schemas.

    A whole-event schema (scope envelope) pins its own event_version with a const; that pin
    says which version it is, not what it accepts, so it is left out of the comparison.
    """
    reader_event, writer_event = _is_event_schema(reader), _is_event_schema(writer)
    if reader_event and writer_event:
        return _unpinned(reader), _unpinned(writer)
    if reader_event:
        reader = reader["properties"]["payload"]
    if writer_event:
        writer = writer["properties"]["payload"]
    return reader, writer


def _is_event_schema(schema: Any) -> bool:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return (
        isinstance(properties, dict)
        and "payload" in properties
        and set(properties) <= set(ENVELOPE_FIELDS)
    )


def _unpinned(schema: dict[str, Any]) -> dict[str, Any]:
    version = schema["properties"].get("event_version")
    if not isinstance(version, dict) or not ({"const", "enum"} & set(version)):
        return schema
    schema = copy.deepcopy(schema)
    for keyword in ("const", "enum"):
        schema["properties"]["event_version"].pop(keyword, None)
    return schema


# --- the diff ---------------------------------------------------------------------------------

_ANNOTATIONS = frozenset(
    [
        "$schema",
        "$id",
        "$comment",
        "$anchor",
        "$defs",
        "definitions",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "contentMediaType",
        "contentEncoding",
    ]
)
_BOUNDS = {
    "string": (("maxLength", "MAX_LENGTH"), ("minLength", "MIN_LENGTH")),
    "number": (
        ("maximum", "MAXIMUM"),
        ("minimum", "MINIMUM"),
        ("exclusiveMaximum", "EXCLUSIVE_MAXIMUM"),
        ("exclusiveMinimum", "EXCLUSIVE_MINIMUM"),
    ),
    "object": (("maxProperties", "MAX_PROPERTIES"), ("minProperties", "MIN_PROPERTIES")),
    "array": (("maxItems", "MAX_ITEMS"), ("minItems", "MIN_ITEMS")),
}
_MODELED = frozenset(
    [
        "type",
        "enum",
        "const",
        "pattern",
        "format",
        "multipleOf",
        "properties",
        "required",
        "additionalProperties",
        "unevaluatedProperties",
        "patternProperties",
        "items",
        "uniqueItems",
    ]
) | {keyword for bounds in _BOUNDS.values() for keyword, _ in bounds}


class _Diff:
    """Walks a writer and a reader schema side by side, collecting Differences."""

    def __init__(self, writer_root: Any, reader_root: Any) -> None:
        self.roots = (writer_root, reader_root)
        self.found: list[Difference] = []
        self.active: set[tuple[int, int]] = set()

    def add(self, kind: DifferenceType, path: str) -> None:
        self.found.append(Difference(kind, path))

    def compare(self, writer: Any, reader: Any, path: str) -> None:
        if writer is None or reader is None:
            if writer is not None and not _is_empty(writer):
                self.add(_T.SCHEMA_REMOVED, path)
            elif reader is not None and not _is_empty(reader):
                self.add(_T.SCHEMA_ADDED, path)
            return
        w, r = self._resolve(writer, 0), self._resolve(reader, 1)
        if w == r or w is False or _is_empty(r):
            return
        if r is False or _is_empty(w):
            self.add(_T.TYPE_NARROWED, path)
            return
        key = (id(w), id(r))
        if key in self.active:  # a recursive $ref met again while still being compared
            return
        self.active.add(key)
        try:
            for keyword, kind in (
                ("$id", _T.ID_CHANGED),
                ("title", _T.TITLE_CHANGED),
                ("description", _T.DESCRIPTION_CHANGED),
                ("default", _T.DEFAULT_CHANGED),
            ):
                if w.get(keyword) != r.get(keyword):
                    self.add(kind, path)
            self._schema(w, r, path)
        finally:
            self.active.discard(key)

    def _resolve(self, schema: Any, side: int) -> Any:
        """Follow local $refs; one that does not resolve stays, and differs as KEYWORD_CHANGED."""
        if schema is True:
            return {}
        for _ in range(32):  # a chain of references, not a cycle of them
            if not isinstance(schema, dict) or not isinstance(schema.get("$ref"), str):
                return schema
            target = _pointer(self.roots[side], schema["$ref"])
            if not isinstance(target, dict):
                return schema
            siblings = {key: value for key, value in schema.items() if key != "$ref"}
            # The target itself when it can be: a recursive schema then meets the same objects
            # again, which is how the walk knows to stop.
            schema = {**target, **siblings} if siblings else target
        return schema

    def _schema(self, w: dict[str, Any], r: dict[str, Any], path: str) -> None:
        shared = self._types(w, r, path)
        if shared is not None and not shared:
            return  # no type in common: TYPE_CHANGED says it all
        self._values(w, r, path)
        for family in ("string", "number", "object", "array"):
            if shared is None or family in shared:
                self._bounds(w, r, _BOUNDS[family], path)
        if shared is None or "string" in shared:
            self._keyword(w, r, "pattern", "PATTERN", path)
            self._keyword(w, r, "format", "FORMAT", path)
        if shared is None or "number" in shared:
            self._multiple_of(w, r, path)
        if shared is None or "object" in shared:
            self._object(w, r, path)
        if shared is None or "array" in shared:
            self._array(w, r, path)
        for keyword in sorted((set(w) | set(r)) - _MODELED - _ANNOTATIONS):
            if w.get(keyword) != r.get(keyword):
                self.add(_T.KEYWORD_CHANGED, f"{path}/{keyword}")

    def _types(self, w: dict[str, Any], r: dict[str, Any], path: str) -> set[str] | None:
        """Report a type change; return the types both allow, "number" standing for both
        numeric types (None: neither schema names a type)."""
        w_types, r_types = _type_set(w), _type_set(r)
        if w_types != r_types:
            if r_types is None or (w_types is not None and _covers(r_types, w_types)):
                kind = _T.TYPE_EXTENDED
            elif w_types is None or _covers(w_types, r_types):
                kind = _T.TYPE_NARROWED
            else:
                kind = _T.TYPE_CHANGED
            self.add(kind, f"{path}/type")
        if w_types is None or r_types is None:
            known = w_types or r_types
            return None if known is None else set(_numeric(known))
        return set(_numeric(w_types)) & set(_numeric(r_types))

    def _values(self, w: dict[str, Any], r: dict[str, Any], path: str) -> None:
        w_values, r_values = _value_set(w), _value_set(r)
        if w_values == r_values:
            return
        where = f"{path}/{'const' if 'const' in w or 'const' in r else 'enum'}"
        if r_values is None or (w_values is not None and w_values <= r_values):
            self.add(_T.ENUM_ARRAY_EXTENDED, where)
        elif w_values is None or r_values <= w_values:
            self.add(_T.ENUM_ARRAY_NARROWED, where)
        else:
            self.add(_T.ENUM_ARRAY_CHANGED, where)

    def _bounds(
        self, w: dict[str, Any], r: dict[str, Any], bounds: tuple[tuple[str, str], ...], path: str
    ) -> None:
        for keyword, prefix in bounds:
            before, after = w.get(keyword), r.get(keyword)
            if before == after:
                continue
            if not all(_is_number(value) for value in (before, after) if value is not None):
                self.add(_T.KEYWORD_CHANGED, f"{path}/{keyword}")
                continue
            if before is None:
                change = "ADDED"
            elif after is None:
                change = "REMOVED"
            else:
                change = "INCREASED" if after > before else "DECREASED"
            self.add(DifferenceType(f"{prefix}_{change}"), f"{path}/{keyword}")

    def _keyword(
        self, w: dict[str, Any], r: dict[str, Any], keyword: str, prefix: str, path: str
    ) -> None:
        before, after = w.get(keyword), r.get(keyword)
        if before != after:
            change = "ADDED" if before is None else "REMOVED" if after is None else "CHANGED"
            self.add(DifferenceType(f"{prefix}_{change}"), f"{path}/{keyword}")

    def _multiple_of(self, w: dict[str, Any], r: dict[str, Any], path: str) -> None:
        before, after = w.get("multipleOf"), r.get("multipleOf")
        where = f"{path}/multipleOf"
        if before == after:
            return
        if not all(_is_number(value) for value in (before, after) if value is not None):
            self.add(_T.KEYWORD_CHANGED, where)
        elif before is None or after is None:
            self.add(_T.MULTIPLE_OF_ADDED if before is None else _T.MULTIPLE_OF_REMOVED, where)
        elif Fraction(str(before)) % Fraction(str(after)) == 0:
            self.add(_T.MULTIPLE_OF_REDUCED, where)  # every multiple of before is one of after
        elif Fraction(str(after)) % Fraction(str(before)) == 0:
            self.add(_T.MULTIPLE_OF_EXPANDED, where)
        else:
            self.add(_T.MULTIPLE_OF_CHANGED, where)

    # -- objects ------------------------------------------------------------------------------

    def _object(self, w: dict[str, Any], r: dict[str, Any], path: str) -> None:
        w_props, r_props = _mapping(w.get("properties")), _mapping(r.get("properties"))
        w_required, r_required = _names(w.get("required")), _names(r.get("required"))
        for key in (key for key in w_props if key in r_props):
            where = f"{path}/required/{_escape(key)}"
            if key in w_required and key not in r_required:
                self.add(_T.REQUIRED_ATTRIBUTE_REMOVED, where)
            elif key in r_required and key not in w_required:
                default = _has_default(r_props[key])
                kind = _T.REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED if default else None
                self.add(kind or _T.REQUIRED_ATTRIBUTE_ADDED, where)
        for key in sorted(r_required - w_required - set(w_props) - set(r_props)):
            self.add(_T.REQUIRED_ATTRIBUTE_ADDED, f"{path}/required/{_escape(key)}")
        for key in [*w_props, *(key for key in r_props if key not in w_props)]:
            where = f"{path}/properties/{_escape(key)}"
            if key not in r_props:
                self._property_removed(w_props[key], r, key, where)
            elif key not in w_props:
                self._property_added(w, r_props[key], key in r_required, key, where)
            else:
                self.compare(w_props[key], r_props[key], where)
        self._additional_properties(w, r, f"{path}/additionalProperties")
        w_patterns = _mapping(w.get("patternProperties"))
        r_patterns = _mapping(r.get("patternProperties"))
        if set(w_patterns) != set(r_patterns):
            self.add(_T.KEYWORD_CHANGED, f"{path}/patternProperties")
        for pattern in (pattern for pattern in w_patterns if pattern in r_patterns):
            where = f"{path}/patternProperties/{_escape(pattern)}"
            self.compare(w_patterns[pattern], r_patterns[pattern], where)

    def _property_removed(self, w_prop: Any, r: dict[str, Any], key: str, where: str) -> None:
        if _is_open(r):
            self.add(_T.PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL, where)
        elif (cover := _partial(r, key)) is not None:
            covered = self._covered(w_prop, cover, where)
            self.add(
                _T.PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                if covered
                else _T.PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                where,
            )
        elif w_prop is False:
            self.add(_T.PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL, where)
        else:
            self.add(_T.PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL, where)

    def _property_added(
        self, w: dict[str, Any], r_prop: Any, required: bool, key: str, where: str
    ) -> None:
        default = _has_default(r_prop)
        if _is_open(w):
            if required and not default:
                self.add(_T.REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL, where)
            elif _is_empty(r_prop):
                self.add(_T.PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL, where)
            elif required:
                self.add(_T.REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL, where)
            else:
                self.add(_T.OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL, where)
            return
        if (cover := _partial(w, key)) is not None:
            covered = self._covered(cover, r_prop, where)
            self.add(
                _T.PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                if covered
                else _T.PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                where,
            )
        if not required:
            self.add(_T.OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, where)
        elif default:
            self.add(_T.REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL, where)
        else:
            self.add(_T.REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, where)

    def _covered(self, writer: Any, reader: Any, where: str) -> bool:
        """Compare a declared property with a partially open model's schema for it."""
        before = len(self.found)
        self.compare(writer, reader, where)
        return all(difference.compatible for difference in self.found[before:])

    def _additional_properties(self, w: dict[str, Any], r: dict[str, Any], where: str) -> None:
        before, after = _content(w), _content(r)
        if (before is False) != (after is False):
            added = after is not False
            kind = _T.ADDITIONAL_PROPERTIES_ADDED if added else _T.ADDITIONAL_PROPERTIES_REMOVED
            self.add(kind, where)
        elif before is True and isinstance(after, dict):
            self.add(_T.ADDITIONAL_PROPERTIES_NARROWED, where)
        elif after is True and isinstance(before, dict):
            self.add(_T.ADDITIONAL_PROPERTIES_EXTENDED, where)
        elif isinstance(before, dict) and isinstance(after, dict):
            self.compare(before, after, where)

    # -- arrays -------------------------------------------------------------------------------

    def _array(self, w: dict[str, Any], r: dict[str, Any], path: str) -> None:
        self.compare(w.get("items"), r.get("items"), f"{path}/items")
        if bool(w.get("uniqueItems")) != bool(r.get("uniqueItems")):
            kind = _T.UNIQUE_ITEMS_ADDED if r.get("uniqueItems") else _T.UNIQUE_ITEMS_REMOVED
            self.add(kind, f"{path}/uniqueItems")


# --- small helpers ----------------------------------------------------------------------------


def _is_empty(schema: Any) -> bool:
    """True, or an object with annotations only: it accepts everything."""
    return schema is True or (isinstance(schema, dict) and set(schema) <= _ANNOTATIONS)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _names(value: Any) -> set[str]:
    return {name for name in value if isinstance(name, str)} if isinstance(value, list) else set()


def _has_default(schema: Any) -> bool:
    return isinstance(schema, dict) and "default" in schema


def _type_set(schema: dict[str, Any]) -> frozenset[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    return frozenset([declared] if isinstance(declared, str) else declared)


def _covers(wide: frozenset[str], narrow: frozenset[str]) -> bool:
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _numeric(types: frozenset[str]) -> frozenset[str]:
    return types | {"number"} if "integer" in types else types


def _canonical(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _value_set(schema: dict[str, Any]) -> frozenset[str] | None:
    if "const" in schema:
        return frozenset([_canonical(schema["const"])])
    if isinstance(schema.get("enum"), list):
        return frozenset(_canonical(value) for value in schema["enum"])
    return None


def _content(schema: dict[str, Any]) -> bool | dict[str, Any]:
    """What an object accepts beyond its declared properties: True, False, or a schema."""
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if keyword in schema:
            value = schema[keyword]
            if _is_empty(value):
                return True
            return value if isinstance(value, dict) else bool(value)
    return True


def _is_open(schema: dict[str, Any]) -> bool:
    return not schema.get("patternProperties") and _content(schema) is True


def _partial(schema: dict[str, Any], key: str) -> Any:
    """The schema a partially open object applies to an undeclared property `key`, if any."""
    for pattern, subschema in _mapping(schema.get("patternProperties")).items():
        try:
            if re.search(pattern, key):
                return subschema
        except re.error:
            continue
    content = _content(schema)
    return content if isinstance(content, dict) else None


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _pointer(root: Any, ref: str) -> Any:
    if not ref.startswith("#"):
        return None
    node = root
    for raw in (part for part in ref[1:].split("/") if part):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node
