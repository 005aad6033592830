"""The schema registry: the folder of event schemas, and the check every event passes (SPEC 5).

The folder is the contract between the services. Loading refuses a folder that contradicts
itself, so a mistake stops a service at boot or fails CI instead of reaching the wire.
Validation runs on every produce and consume, so its happy path is two compiled checks and
nothing else; error messages are only built once an event is known to be invalid.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal, cast

import jsonschema_rs
import yaml

from teacher_hiring.messaging.envelope import ENVELOPE_FIELDS, Envelope

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS_DIR_ENV = "TH_SCHEMAS_DIR"
ENVELOPE_FILE = "envelope.json"
CATALOGUE_FILE = "events.yaml"
COMPATIBILITY_MODES = frozenset(
    {
        "NONE",
        "BACKWARD",
        "BACKWARD_TRANSITIVE",
        "FORWARD",
        "FORWARD_TRANSITIVE",
        "FULL",
        "FULL_TRANSITIVE",
    }
)
SCOPES = ("payload", "envelope")

_CATALOGUE_FIELDS = (
    "topic",
    "key",
    "producer",
    "consumers",
    "compatibility",
    "scope",
    "description",
)
_VERSION_FILE = re.compile(r"v(0|[1-9][0-9]*)\.json")
_MAX_MESSAGE = 240


class SchemaViolation(ValueError):
    """An event that breaks its schema: refused by a producer, dead-lettered by a consumer."""

    def __init__(self, event_name: str, event_version: int | None, errors: list[str]) -> None:
        # Passing everything to ValueError keeps the exception picklable across processes.
        super().__init__(event_name, event_version, errors)
        self.event_name = event_name
        self.event_version = event_version
        self.errors = errors

    def __str__(self) -> str:
        version = "?" if self.event_version is None else str(self.event_version)
        return f"{self.event_name} v{version}: " + "; ".join(self.errors)


class UnknownEvent(SchemaViolation):
    """The event's name, or that version of it, is not in the registry."""


class RegistryError(RuntimeError):
    """The schema folder contradicts itself; raised by load, so no service starts on it."""


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One event's entry in events.yaml, plus the versions found on disk."""

    name: str
    topic: str
    key: str
    producer: str
    consumers: tuple[str, ...]
    compatibility: str
    scope: Literal["payload", "envelope"]
    description: str
    versions: tuple[int, ...]

    @property
    def latest_version(self) -> int:
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class _Compiled:
    schema: dict[str, Any]
    validator: jsonschema_rs.Validator
    # Envelope scope only: the envelope keys the schema describes (it may predate some fields).
    projection: tuple[str, ...] | None


def default_schemas_dir() -> Traversable:
    """The repo's schemas/ in a checkout, else the copy packaged into the wheel."""
    configured = os.environ.get(SCHEMAS_DIR_ENV)
    if configured:
        return Path(configured)
    checkout = Path(__file__).resolve().parents[3] / "schemas"
    if (checkout / CATALOGUE_FILE).is_file():
        return checkout
    return resources.files("teacher_hiring") / "_schemas"


class SchemaRegistry:
    """Every event's topic, key, producer, consumers and schemas, loaded once and compiled."""

    def __init__(
        self,
        envelope_schema: dict[str, Any],
        specs: Mapping[str, EventSpec],
        compiled: Mapping[tuple[str, int], _Compiled],
    ) -> None:
        self._envelope_schema = envelope_schema
        self._envelope = _compile(envelope_schema)
        self._specs = dict(specs)
        self._compiled = dict(compiled)

    @classmethod
    def load(cls, directory: Path | None = None) -> SchemaRegistry:
        """Read and check the whole folder; raises RegistryError listing every problem found."""
        return _Loader(directory if directory is not None else default_schemas_dir()).load()

    # --- lookups -----------------------------------------------------------------------------

    def events(self) -> list[EventSpec]:
        return list(self._specs.values())

    def spec(self, name: str) -> EventSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownEvent(name, None, [self._unknown_name(name)]) from None

    def schema(self, name: str, version: int) -> dict[str, Any]:
        """A copy, so a caller serving or rewriting it cannot change what is validated."""
        return copy.deepcopy(self._lookup(name, version).schema)

    def body_fields(self, name: str, version: int) -> tuple[str, ...] | None:
        """What a record of this event and version holds in its body (messaging.wire): None
        for the bare payload (scope `payload`), else the envelope fields its schema names."""
        return self._lookup(name, version).projection

    def envelope_schema(self) -> dict[str, Any]:
        return copy.deepcopy(self._envelope_schema)

    def topics(self) -> list[str]:
        return sorted({spec.topic for spec in self._specs.values()})

    def events_on_topic(self, topic: str) -> list[EventSpec]:
        return [spec for spec in self._specs.values() if spec.topic == topic]

    def topic_owner(self, topic: str) -> str | None:
        """The one service that produces the events of `topic` (the loader refuses a topic
        with two), None for a topic the catalogue does not name. On a broker whose ACLs let only
        that service write the topic, a record's topic says who wrote it."""
        owners = {spec.producer for spec in self.events_on_topic(topic)}
        return owners.pop() if owners else None

    def partition_key(self, name: str, payload: Mapping[str, Any]) -> str:
        """The key that keeps one aggregate's events in order on one partition."""
        spec = self.spec(name)
        if spec.key not in payload:
            raise SchemaViolation(
                name, None, [f"payload.{spec.key}: missing, and it is the partition key"]
            )
        return str(payload[spec.key])

    # --- validation --------------------------------------------------------------------------

    def validate(self, event: Mapping[str, Any]) -> None:
        """Raise SchemaViolation (or UnknownEvent) naming every offending field."""
        instance = event if isinstance(event, dict) else dict(event)
        compiled = self._find(instance.get("event_name"), instance.get("event_version"))
        try:
            if (
                compiled is not None
                and self._envelope.is_valid(instance)
                and compiled.validator.is_valid(_target(instance, compiled))
            ):
                return
            errors = self._errors(instance, compiled)
        except ValueError as exc:  # a value JSON cannot carry: a datetime, bytes, an int key
            errors = [f"envelope: not JSON data: {exc}"]
        name, version = instance.get("event_name"), instance.get("event_version")
        shown_name = name if isinstance(name, str) else "<unnamed event>"
        shown_version = version if type(version) is int else None
        violation = SchemaViolation if compiled is not None else UnknownEvent
        raise violation(shown_name, shown_version, errors or ["does not match its schema"])

    def validate_envelope(self, envelope: Envelope) -> None:
        self.validate(envelope.as_dict())

    def validate_document(self, name: str, version: int, document: Any) -> None:
        """Check a payload, or a whole event when it has event_name, against one version.

        A payload is checked inside a placeholder envelope, so the errors name its fields as
        `payload.<field>`, the way a consumer would report them.
        """
        self._lookup(name, version)
        if isinstance(document, dict) and "event_name" in document:
            found = (document.get("event_name"), document.get("event_version"))
            if found != (name, version):
                raise SchemaViolation(
                    name,
                    version,
                    [
                        f"event_name, event_version: the document is {found[0]!r} version "
                        f"{found[1]!r}, not {name!r} version {version}"
                    ],
                )
            self.validate(document)
            return
        self.validate(
            {
                "event_id": "00000000-0000-4000-8000-000000000000",
                "event_version": version,
                "event_name": name,
                "produced_at": "1970-01-01T00:00:00Z",
                "producer": self._specs[name].producer,
                "trace_id": "registry-validate",
                "payload": document,
            }
        )

    # --- internals ---------------------------------------------------------------------------

    def _find(self, name: object, version: object) -> _Compiled | None:
        # type() rather than isinstance: True must not pass for version 1.
        if not isinstance(name, str) or type(version) is not int:
            return None
        return self._compiled.get((name, version))

    def _lookup(self, name: str, version: int) -> _Compiled:
        compiled = self._find(name, version)
        if compiled is not None:
            return compiled
        if name not in self._specs:
            raise UnknownEvent(name, version, [self._unknown_name(name)])
        raise UnknownEvent(name, version, [self._unknown_version(name, version)])

    def _unknown_name(self, name: str) -> str:
        return f"event_name: {name!r} is not a registered event"

    def _unknown_version(self, name: str, version: object) -> str:
        known = ", ".join(str(v) for v in self._specs[name].versions)
        return f"event_version: {name} has no version {version!r} (known: {known})"

    def _errors(self, instance: dict[str, Any], compiled: _Compiled | None) -> list[str]:
        errors = _render_all(self._envelope.iter_errors(instance), ())
        name, version = instance.get("event_name"), instance.get("event_version")
        if compiled is None:
            if isinstance(name, str) and name not in self._specs:
                errors.insert(0, self._unknown_name(name))
            elif isinstance(name, str) and type(version) is int:
                errors.insert(0, self._unknown_version(name, version))
        elif compiled.projection is not None:
            errors += _render_all(compiled.validator.iter_errors(_target(instance, compiled)), ())
        elif isinstance(instance.get("payload"), dict):
            payload_errors = compiled.validator.iter_errors(instance["payload"])
            errors += _render_all(payload_errors, ("payload",))
        # An envelope-scoped schema re-checks envelope fields; say each problem once.
        return list(dict.fromkeys(errors))


def _target(instance: dict[str, Any], compiled: _Compiled) -> Any:
    if compiled.projection is None:
        return instance["payload"]
    return {key: instance[key] for key in compiled.projection if key in instance}


def _render_all(
    errors: Iterable[jsonschema_rs.ValidationError], prefix: tuple[str, ...]
) -> list[str]:
    return [_render(error, prefix) for error in errors]


def _render(error: jsonschema_rs.ValidationError, prefix: tuple[str, ...]) -> str:
    path = ""
    for part in (*prefix, *error.instance_path):
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    message = error.message
    if len(message) > _MAX_MESSAGE:
        # The message quotes the offending value, which may be a 20,000-character statement
        # or a secret accepted answer; keep its start and the rule at its end.
        message = message[:100] + " … " + message[-100:]
    return f"{path or 'envelope'}: {message}"


def _compile(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    return jsonschema_rs.Draft202012Validator(
        schema, validate_formats=True, ignore_unknown_formats=False
    )


class _Loader:
    """Reads the folder, collecting every problem so one run shows them all."""

    def __init__(self, root: Traversable) -> None:
        self.root = root
        self.problems: list[str] = []

    def load(self) -> SchemaRegistry:
        if not self.root.is_dir():
            raise RegistryError(f"{self.root}: not a schema folder")
        envelope = self._schema(self.root / ENVELOPE_FILE, "envelope")
        catalogue = self._catalogue()
        folders = {
            entry.name: entry
            for entry in self.root.iterdir()
            if entry.is_dir() and not entry.name.startswith((".", "_"))
        }
        for name in sorted(set(folders) - set(catalogue)):
            self.problems.append(f"{name}/: a schema folder that {CATALOGUE_FILE} does not name")
        for name in catalogue:
            if name not in folders:
                self.problems.append(f"{CATALOGUE_FILE}: {name} has no folder {name}/")
        specs: dict[str, EventSpec] = {}
        compiled: dict[tuple[str, int], _Compiled] = {}
        for name, entry in catalogue.items():
            if name not in folders:
                continue
            versions = self._versions(name, folders[name])
            spec = _spec(name, entry, versions)
            specs[name] = spec
            for version in versions:
                path = folders[name] / f"v{version}.json"
                found = self._event_schema(spec, version, path)
                if found is not None:
                    compiled[(name, version)] = found
        self._one_producer_per_topic(specs)
        if self.problems or envelope is None:
            raise RegistryError(
                f"schema folder {self.root} is inconsistent:\n  " + "\n  ".join(self.problems)
            )
        return SchemaRegistry(envelope, specs, compiled)

    def _one_producer_per_topic(self, specs: Mapping[str, EventSpec]) -> None:
        """Write access to a broker is per topic: a topic two services produce would let each
        write the other's events, and its records would not say which of them wrote them."""
        producers: dict[str, set[str]] = {}
        for spec in specs.values():
            producers.setdefault(spec.topic, set()).add(spec.producer)
        for topic, owners in sorted(producers.items()):
            if len(owners) > 1:
                self.problems.append(
                    f"{CATALOGUE_FILE}: topic {topic} has several producers "
                    f"({', '.join(sorted(owners))}); give each producer's events a topic of its own"
                )

    def _catalogue(self) -> dict[str, dict[str, Any]]:
        path = self.root / CATALOGUE_FILE
        if not path.is_file():
            self.problems.append(f"{CATALOGUE_FILE}: missing")
            return {}
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            self.problems.append(f"{CATALOGUE_FILE}: not valid YAML: {exc}")
            return {}
        if not isinstance(data, dict):
            self.problems.append(f"{CATALOGUE_FILE}: must map event names to entries")
            return {}
        return {
            str(name): entry for name, entry in data.items() if self._entry_ok(str(name), entry)
        }

    def _entry_ok(self, name: str, entry: object) -> bool:
        where = f"{CATALOGUE_FILE}: {name}"
        if not isinstance(entry, dict):
            self.problems.append(f"{where}: must be a mapping")
            return False
        before = len(self.problems)
        missing = [field for field in _CATALOGUE_FIELDS if field not in entry]
        unknown = sorted(set(entry) - set(_CATALOGUE_FIELDS))
        if missing:
            self.problems.append(f"{where}: missing {', '.join(missing)}")
        if unknown:
            self.problems.append(f"{where}: unknown fields {', '.join(map(str, unknown))}")
        for field in ("topic", "key", "producer", "description"):
            if field in entry and not (isinstance(entry[field], str) and entry[field].strip()):
                self.problems.append(f"{where}: {field} must be a non-empty string")
        consumers = entry.get("consumers", [])
        if not isinstance(consumers, list) or not all(isinstance(c, str) for c in consumers):
            self.problems.append(f"{where}: consumers must be a list of service names")
        if "compatibility" in entry and entry["compatibility"] not in COMPATIBILITY_MODES:
            modes = ", ".join(sorted(COMPATIBILITY_MODES))
            self.problems.append(f"{where}: compatibility must be one of {modes}")
        if "scope" in entry and entry["scope"] not in SCOPES:
            self.problems.append(f"{where}: scope must be payload or envelope")
        return len(self.problems) == before

    def _versions(self, name: str, folder: Traversable) -> tuple[int, ...]:
        versions: list[int] = []
        for entry in folder.iterdir():
            if entry.name.startswith("."):
                continue
            match = _VERSION_FILE.fullmatch(entry.name)
            if match is None or not entry.is_file():
                self.problems.append(f"{name}/{entry.name}: not a v<N>.json schema file")
            else:
                versions.append(int(match.group(1)))
        versions.sort()
        if versions != list(range(len(versions))) or not versions:
            expected = ", ".join(f"v{v}.json" for v in range(max(versions, default=0) + 1))
            self.problems.append(
                f"{name}/: versions must run from v0.json without gaps ({expected})"
            )
        return tuple(versions)

    def _schema(self, path: Traversable, where: str) -> dict[str, Any] | None:
        if not path.is_file():
            self.problems.append(f"{where}: {path.name} is missing")
            return None
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            self.problems.append(f"{where}: not valid JSON: {exc}")
            return None
        if not isinstance(schema, dict):
            self.problems.append(f"{where}: a schema must be a JSON object")
            return None
        if schema.get("$schema") != DRAFT_2020_12:
            self.problems.append(f"{where}: $schema must be {DRAFT_2020_12}")
            return None
        try:
            jsonschema_rs.meta.validate(schema)
            _compile(schema)
        except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.problems.append(f"{where}: not a valid draft 2020-12 schema: {first_line}")
            return None
        return cast(dict[str, Any], schema)

    def _event_schema(self, spec: EventSpec, version: int, path: Traversable) -> _Compiled | None:
        where = f"{spec.name}/v{version}.json"
        schema = self._schema(path, where)
        if schema is None:
            return None
        before = len(self.problems)
        expected_id = f"urn:teacher-hiring:event:{spec.name}:v{version}"
        if "$id" in schema and schema["$id"] != expected_id:
            self.problems.append(f"{where}: $id must be {expected_id}")
        if schema.get("title") != spec.name:
            self.problems.append(f"{where}: title must be {spec.name}")
        projection: tuple[str, ...] | None = None
        payload_schema: Any = schema
        if spec.scope == "envelope":
            properties = schema.get("properties", {})
            projection = tuple(properties)
            payload_schema = properties.get("payload")
            strangers = sorted(set(projection) - set(ENVELOPE_FIELDS))
            if strangers or not isinstance(payload_schema, dict):
                self.problems.append(
                    f"{where}: an envelope-scoped schema must describe payload and only "
                    f"envelope fields (unexpected: {', '.join(strangers) or 'none'})"
                )
                return None
        properties, required = (
            payload_schema.get("properties", {}),
            payload_schema.get("required", []),
        )
        if spec.key not in properties or spec.key not in required:
            self.problems.append(f"{where}: the partition key {spec.key} must be a required field")
        if len(self.problems) != before:
            return None
        return _Compiled(schema, _compile(schema), projection)


def _spec(name: str, entry: Mapping[str, Any], versions: tuple[int, ...]) -> EventSpec:
    return EventSpec(
        name=name,
        topic=entry["topic"],
        key=entry["key"],
        producer=entry["producer"],
        consumers=tuple(entry["consumers"]),
        compatibility=entry["compatibility"],
        scope=entry["scope"],
        description=entry["description"].strip(),
        versions=versions,
    )
