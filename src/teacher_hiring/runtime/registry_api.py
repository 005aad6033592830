"""The schema registry over HTTP, read-only, in the shape of Confluent Schema Registry's REST API.

Every service mounts it under /registry and serves the registry it was built with, so a tool
that speaks Confluent's API can be pointed at http://127.0.0.1:8701/registry. The mapping
(docs/registry.md):

- a subject is an event name (Confluent's record-name strategy), e.g. `ManagerCreated`;
- a subject version is 1-based, our event_version 0-based: version = event_version + 1, and
  every answer naming a version also carries `eventVersion`;
- a schema id is 1000 * (position of the event in events.yaml, from 1) + subject version, so
  ManagerCreated v0 is 1001 and its v1 is 1002: adding a version never renumbers anything, and
  new events are appended to events.yaml;
- the registry is a folder in the repository, so every write answers Confluent's 42205.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any

import jsonschema_rs
from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from teacher_hiring.messaging.compatibility import is_compatible
from teacher_hiring.messaging.registry import EventSpec, SchemaRegistry, SchemaViolation
from teacher_hiring.runtime.bad_requests import (
    UNREADABLE_BODY,
    AnsweringRoute,
    is_unreadable_body,
)
from teacher_hiring.runtime.input_bounds import UnsafeBody, json_issue

ID_BLOCK = 1000
GLOBAL_COMPATIBILITY = "BACKWARD"
_MAX_VERSION = 2**31 - 1


class RegistryHTTPError(Exception):
    """An answer in Confluent's error shape: {"error_code": 40401, "message": "..."}."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(status, code, message)
        self.status, self.code, self.message = status, code, message


class _ConfluentRoute(AnsweringRoute):
    """Answers this router's errors, malformed requests included, in Confluent's shape."""

    def answer(self, exc: Exception) -> Response | None:
        if isinstance(exc, RegistryHTTPError):
            return _error(exc.status, exc.code, exc.message)
        if isinstance(exc, RequestValidationError):
            problems = "; ".join(
                ".".join(str(part) for part in error.get("loc", ())) + ": " + error["msg"]
                for error in exc.errors()
            )
            return _error(422, 422, f"Unprocessable request: {problems}")
        if isinstance(exc, UnsafeBody):
            return JSONResponse(unprocessable([exc.message]), status_code=422)
        if isinstance(exc, HTTPException) and is_unreadable_body(exc):
            return _error(422, 422, f"Unprocessable request: {UNREADABLE_BODY}")
        return None


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"error_code": code, "message": message}, status_code=status)


def unprocessable(problems: Iterable[str]) -> dict[str, Any]:
    """A 422's body in Confluent's shape, for a request refused before any route saw it."""
    return {"error_code": 422, "message": "Unprocessable request: " + "; ".join(problems)}


# --- models (Confluent's field names) ---------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class ErrorMessage(_Model):
    error_code: int = Field(examples=[40401])
    message: str = Field(examples=["Subject 'Nope' not found."])


class SubjectVersion(_Model):
    subject: str = Field(description="The event name")
    id: int = Field(description="Schema id: 1000 * event position in events.yaml + version")
    version: int = Field(description="Confluent's 1-based version: eventVersion + 1")
    event_version: int = Field(alias="eventVersion", description="Our event_version (from 0)")
    record_body: str = Field(
        alias="recordBody",
        description=(
            "What a record's body holds, exactly as the schema describes it: `payload` (the "
            "bare payload) or `event` (the whole event); the rest travels in ce_* headers"
        ),
        examples=["payload"],
    )
    schema_type: str = Field("JSON", alias="schemaType")
    schema_: str = Field(alias="schema", description="The JSON Schema, as a JSON string")


class SchemaString(_Model):
    schema_: str = Field(alias="schema")
    schema_type: str = Field("JSON", alias="schemaType")


class SubjectAndVersion(_Model):
    subject: str
    version: int


class CompatibilityLevel(_Model):
    compatibility_level: str = Field(alias="compatibilityLevel", examples=["BACKWARD"])


class ModeAnswer(_Model):
    mode: str = Field(examples=["READONLY"])


class SchemaRequest(_Model):
    schema_: str = Field(alias="schema", description="The JSON Schema, as a JSON string")
    schema_type: str = Field("JSON", alias="schemaType")
    references: list[dict[str, Any]] = Field(default_factory=list)


class CompatibilityAnswer(_Model):
    is_compatible: bool
    messages: list[str] | None = Field(None, description="With ?verbose=true")


class ValidationAnswer(_Model):
    valid: bool
    errors: list[str] = Field(default_factory=list, description="One per field, named by path")


# --- the mapping between our registry and Confluent's numbers ---------------------------------


def schema_id(registry: SchemaRegistry, name: str, event_version: int) -> int:
    position = [spec.name for spec in registry.events()].index(name) + 1
    return position * ID_BLOCK + event_version + 1


def _by_id(registry: SchemaRegistry, identifier: int) -> tuple[EventSpec, int]:
    position, version = divmod(identifier, ID_BLOCK)
    specs = registry.events()
    if 1 <= position <= len(specs) and version - 1 in specs[position - 1].versions:
        return specs[position - 1], version - 1
    raise RegistryHTTPError(404, 40403, f"Schema {identifier} not found")


def _spec(registry: SchemaRegistry, subject: str) -> EventSpec:
    for spec in registry.events():
        if spec.name == subject:
            return spec
    raise RegistryHTTPError(404, 40401, f"Subject '{subject}' not found.")


def _event_version(spec: EventSpec, version: str) -> int:
    """A path's version ("latest", -1 or 1-based) as our 0-based event_version."""
    if version in ("latest", "-1"):
        return spec.latest_version
    number = int(version) if version.isdigit() else 0
    if not 1 <= number <= _MAX_VERSION:
        raise RegistryHTTPError(
            422,
            42202,
            f"The specified version '{version}' is not a valid version id. "
            'Allowed values are between [1, 2^31-1] and the string "latest"',
        )
    if number - 1 not in spec.versions:
        raise RegistryHTTPError(404, 40402, f"Version {number} not found.")
    return number - 1


def _as_string(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))


def _subject_version(registry: SchemaRegistry, spec: EventSpec, event_version: int) -> Any:
    return {
        "subject": spec.name,
        "id": schema_id(registry, spec.name, event_version),
        "version": event_version + 1,
        "eventVersion": event_version,
        "recordBody": "payload" if spec.scope == "payload" else "event",
        "schemaType": "JSON",
        "schema": _as_string(registry.schema(spec.name, event_version)),
    }


def _parsed(body: SchemaRequest) -> Any:
    if body.schema_type.upper() != "JSON":
        raise RegistryHTTPError(
            422, 42201, f"Invalid schema: this registry holds JSON schemas, not {body.schema_type}"
        )
    if body.references:
        raise RegistryHTTPError(422, 42201, "Invalid schema: references are not supported")
    issue = json_issue(body.schema_.encode(errors="surrogatepass"), ["schema"])
    if issue is not None:  # bounded before json.loads, which recurses once a level
        raise RegistryHTTPError(422, 42201, f"Invalid schema: {issue['msg']}")
    try:
        schema = json.loads(body.schema_)
        jsonschema_rs.meta.validate(schema)
    except (ValueError, jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError) as exc:
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise RegistryHTTPError(422, 42201, f"Invalid schema: {first_line}") from exc
    return schema


def _registry(request: Request) -> SchemaRegistry:
    registry = getattr(request.app.state, "registry", None)
    if registry is None:
        registry = request.app.state.runtime.registry
    assert isinstance(registry, SchemaRegistry)
    return registry


Registry = Annotated[SchemaRegistry, Depends(_registry)]
Subject = Annotated[str, Path(min_length=1, max_length=255, description="An event name")]
Version = Annotated[
    str, Path(min_length=1, max_length=20, description='From 1, or "latest" (or -1)')
]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorMessage, "description": "Unknown subject (40401), version or schema"},
    422: {"model": ErrorMessage, "description": "Invalid version (42202) or schema (42201)"},
}
READ_ONLY = (
    "is in read-only mode: schemas are files under schemas/ in the repository "
    "(see docs/registry.md)"
)

router = APIRouter(tags=["schema registry"], route_class=_ConfluentRoute, responses=ERRORS)


@router.get("/subjects")
def subjects(
    registry: Registry, subject_prefix: Annotated[str, Query(alias="subjectPrefix")] = ""
) -> list[str]:
    """Every subject: one per event name."""
    return sorted(s.name for s in registry.events() if s.name.startswith(subject_prefix))


@router.get("/subjects/{subject}/versions")
def versions(registry: Registry, subject: Subject) -> list[int]:
    """The subject's versions, from 1 (event_version + 1)."""
    return [version + 1 for version in _spec(registry, subject).versions]


@router.get("/subjects/{subject}/versions/{version}", response_model=SubjectVersion)
def subject_version(registry: Registry, subject: Subject, version: Version) -> Any:
    """One version of a subject (`latest` or -1 for the newest), with its id and schema."""
    spec = _spec(registry, subject)
    return _subject_version(registry, spec, _event_version(spec, version))


@router.get("/subjects/{subject}/versions/{version}/schema")
def subject_version_schema(
    registry: Registry, subject: Subject, version: Version
) -> dict[str, Any]:
    """The schema of one version, as a JSON document rather than a string."""
    spec = _spec(registry, subject)
    return registry.schema(spec.name, _event_version(spec, version))


@router.get("/subjects/{subject}/versions/{version}/referencedby")
def referenced_by(registry: Registry, subject: Subject, version: Version) -> list[int]:
    """Schemas that reference this one: none, our schemas have no references."""
    _event_version(_spec(registry, subject), version)
    return []


@router.post("/subjects/{subject}", response_model=SubjectVersion)
def lookup(registry: Registry, subject: Subject, body: SchemaRequest) -> Any:
    """Is this schema registered under the subject? Answers its version, or 40403."""
    spec = _spec(registry, subject)
    schema = _parsed(body)
    for event_version in spec.versions:
        if registry.schema(spec.name, event_version) == schema:
            return _subject_version(registry, spec, event_version)
    raise RegistryHTTPError(404, 40403, "Schema not found")


@router.post("/subjects/{subject}/versions", status_code=422)
@router.delete("/subjects/{subject}", status_code=422)
@router.delete("/subjects/{subject}/versions/{version}", status_code=422)
def refuse_write(subject: Subject) -> None:
    """Registering or deleting is refused (42205): a new version is a file in a pull request."""
    raise RegistryHTTPError(422, 42205, f"Subject '{subject}' {READ_ONLY}")


@router.get("/schemas", response_model=list[SubjectVersion])
def all_schemas(registry: Registry) -> Any:
    """Every version of every subject."""
    return [
        _subject_version(registry, spec, version)
        for spec in registry.events()
        for version in spec.versions
    ]


@router.get("/schemas/types")
def schema_types() -> list[str]:
    """The schema types held here: JSON Schema only."""
    return ["JSON"]


@router.get("/schemas/ids/{schema_id}", response_model=SchemaString)
def schema_by_id(registry: Registry, schema_id: int) -> Any:
    """A schema by its global id."""
    spec, event_version = _by_id(registry, schema_id)
    return {"schema": _as_string(registry.schema(spec.name, event_version)), "schemaType": "JSON"}


@router.get("/schemas/ids/{schema_id}/schema")
def raw_schema_by_id(registry: Registry, schema_id: int) -> dict[str, Any]:
    """A schema by its global id, as a JSON document."""
    spec, event_version = _by_id(registry, schema_id)
    return registry.schema(spec.name, event_version)


@router.get("/schemas/ids/{schema_id}/versions", response_model=list[SubjectAndVersion])
def schema_versions(registry: Registry, schema_id: int) -> Any:
    """The subject and version a schema id stands for."""
    spec, event_version = _by_id(registry, schema_id)
    return [{"subject": spec.name, "version": event_version + 1}]


@router.get("/config", response_model=CompatibilityLevel)
def global_config() -> Any:
    """The default mode (Confluent's own default); every subject declares its own."""
    return {"compatibilityLevel": GLOBAL_COMPATIBILITY}


@router.get("/config/{subject}", response_model=CompatibilityLevel)
def subject_config(registry: Registry, subject: Subject) -> Any:
    """The subject's mode, as events.yaml declares it."""
    return {"compatibilityLevel": _spec(registry, subject).compatibility}


@router.put("/config", status_code=422)
@router.put("/config/{subject}", status_code=422)
@router.put("/mode", status_code=422)
def refuse_config() -> None:
    """Changing a mode is refused (42205): modes are declared in schemas/events.yaml."""
    raise RegistryHTTPError(422, 42205, f"The registry {READ_ONLY}")


@router.get("/mode", response_model=ModeAnswer)
def mode() -> Any:
    """Always READONLY."""
    return {"mode": "READONLY"}


@router.post(
    "/compatibility/subjects/{subject}/versions/{version}",
    response_model=CompatibilityAnswer,
    response_model_exclude_none=True,
)
def compatibility(
    registry: Registry,
    subject: Subject,
    version: Version,
    body: SchemaRequest,
    verbose: bool = False,
) -> Any:
    """Would this schema be accepted after the given version, under the subject's mode?

    The transitive modes check it against every version up to the given one.
    """
    spec = _spec(registry, subject)
    return _compatibility(registry, spec, _event_version(spec, version), body, verbose)


@router.post(
    "/compatibility/subjects/{subject}/versions",
    response_model=CompatibilityAnswer,
    response_model_exclude_none=True,
)
def compatibility_with_all(
    registry: Registry, subject: Subject, body: SchemaRequest, verbose: bool = False
) -> Any:
    """Would this schema be accepted as the subject's next version, under its mode?"""
    spec = _spec(registry, subject)
    return _compatibility(registry, spec, spec.latest_version, body, verbose)


def _compatibility(
    registry: SchemaRegistry, spec: EventSpec, last: int, body: SchemaRequest, verbose: bool
) -> dict[str, Any]:
    schema = _parsed(body)
    previous = [registry.schema(spec.name, version) for version in range(last + 1)]
    result = is_compatible(spec.compatibility, schema, previous)
    answer: dict[str, Any] = {"is_compatible": result.compatible}
    if verbose:
        answer["messages"] = result.messages
    return answer


@router.post(
    "/subjects/{subject}/versions/{version}/validate",
    response_model=ValidationAnswer,
    responses={
        422: {
            "model": ValidationAnswer | ErrorMessage,
            "description": "The document is invalid, or the version (42202) is",
        }
    },
)
def validate(
    registry: Registry,
    subject: Subject,
    version: Version,
    document: Annotated[Any, Body(description="A payload, or a whole event with event_name")],
) -> Any:
    """Not Confluent's: is this payload (or whole event) valid against that version?"""
    spec = _spec(registry, subject)
    try:
        registry.validate_document(spec.name, _event_version(spec, version), document)
    except SchemaViolation as exc:
        return JSONResponse({"valid": False, "errors": exc.errors}, status_code=422)
    return {"valid": True, "errors": []}
