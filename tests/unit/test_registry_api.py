"""The schema registry over HTTP, in Confluent's shapes, on an app built by create_app."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from event_examples import example_envelope, example_payload
from fastapi.testclient import TestClient
from test_registry_compatibility import SCHEMAS, add_version, exercise_v1, manager_v1, set_mode

from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.runtime.http import create_app
from teacher_hiring.runtime.service import ServiceRuntime

CONFLUENT = {"content-type": "application/vnd.schemaregistry.v1+json"}

# The id of each event's v0 must never change: tools and caches keep them.
V0_IDS = {
    "ManagerCreated": 1001,
    "ManagerUpdated": 2001,
    "ExerciseCreated": 3001,
    "ExerciseUpdated": 4001,
    "CandidateCreated": 5001,
    "CandidateUpdated": 6001,
    "ExerciseCompletedMoreThenTenTimes": 7001,
    "TaskRatingChanged": 8001,
    "BonusAdded": 9001,
    "FineAdded": 10001,
    "PaymentCommited": 11001,
    "CandidateErased": 12001,
}


def client_for(registry: SchemaRegistry) -> TestClient:
    runtime = cast(ServiceRuntime, SimpleNamespace(registry=registry, name="test", tokens=None))
    app = create_app(
        runtime, title="test", description="test", errors={}, max_request_bytes=1 << 20
    )
    return TestClient(app)


@pytest.fixture(scope="module")
def real() -> SchemaRegistry:
    return SchemaRegistry.load(SCHEMAS)


@pytest.fixture(scope="module")
def http(real: SchemaRegistry) -> TestClient:
    return client_for(real)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, copy, ignore=shutil.ignore_patterns("v[1-9]*.json"))
    return copy


def body(schema: Any, **extra: Any) -> dict[str, Any]:
    return {"schema": json.dumps(schema), "schemaType": "JSON", **extra}


def error(response: Any, status: int, code: int) -> str:
    assert response.status_code == status, response.text
    answer = response.json()
    assert set(answer) == {"error_code", "message"} and answer["error_code"] == code, answer
    return str(answer["message"])


# --- reading -----------------------------------------------------------------------------------


def test_subjects_are_the_event_names(http: TestClient, real: SchemaRegistry) -> None:
    assert http.get("/registry/subjects").json() == sorted(s.name for s in real.events())
    prefixed = http.get("/registry/subjects", params={"subjectPrefix": "Exercise"}).json()
    assert prefixed == ["ExerciseCompletedMoreThenTenTimes", "ExerciseCreated", "ExerciseUpdated"]


def test_subject_versions_count_from_one(http: TestClient, real: SchemaRegistry) -> None:
    for spec in real.events():
        versions = http.get(f"/registry/subjects/{spec.name}/versions").json()
        assert versions == [version + 1 for version in spec.versions]


def test_a_subject_version_carries_id_event_version_and_schema_string(
    http: TestClient, real: SchemaRegistry
) -> None:
    answer = http.get("/registry/subjects/BonusAdded/versions/1").json()
    assert answer == {
        "subject": "BonusAdded",
        "id": 9001,
        "version": 1,
        "eventVersion": 0,
        "recordBody": "payload",
        "schemaType": "JSON",
        "schema": answer["schema"],
    }
    whole = http.get("/registry/subjects/ExerciseCompletedMoreThenTenTimes/versions/1").json()
    assert whole["recordBody"] == "event"
    assert json.loads(answer["schema"]) == real.schema("BonusAdded", 0)
    raw = http.get("/registry/subjects/BonusAdded/versions/1/schema").json()
    assert raw == real.schema("BonusAdded", 0)


def test_latest_and_minus_one_name_the_newest_version(
    http: TestClient, real: SchemaRegistry
) -> None:
    latest = real.spec("ExerciseCreated").latest_version
    for alias in ("latest", "-1"):
        answer = http.get(f"/registry/subjects/ExerciseCreated/versions/{alias}").json()
        assert (answer["version"], answer["eventVersion"]) == (latest + 1, latest)


def test_schema_ids_are_stable_and_resolve_both_ways(
    http: TestClient, real: SchemaRegistry
) -> None:
    served = {
        name: http.get(f"/registry/subjects/{name}/versions/1").json()["id"] for name in V0_IDS
    }
    assert served == V0_IDS
    for spec in real.events():
        for version in spec.versions:
            schema_id = V0_IDS[spec.name] + version
            by_id = http.get(f"/registry/schemas/ids/{schema_id}").json()
            assert json.loads(by_id["schema"]) == real.schema(spec.name, version)
            assert by_id["schemaType"] == "JSON"
            assert http.get(f"/registry/schemas/ids/{schema_id}/schema").json() == json.loads(
                by_id["schema"]
            )
            assert http.get(f"/registry/schemas/ids/{schema_id}/versions").json() == [
                {"subject": spec.name, "version": version + 1}
            ]
    every = http.get("/registry/schemas").json()
    assert len(every) == sum(len(spec.versions) for spec in real.events())


def test_adding_a_version_renumbers_nothing(folder: Path) -> None:
    before = client_for(SchemaRegistry.load(folder)).get("/registry/schemas").json()
    add_version(folder, "ManagerCreated", 1, manager_v1(folder, "ManagerCreated"))
    after = client_for(SchemaRegistry.load(folder)).get("/registry/schemas").json()
    assert [entry for entry in after if entry["eventVersion"] == 0] == before
    assert [e["id"] for e in after if e["subject"] == "ManagerCreated"] == [1001, 1002]


def test_types_config_and_mode(http: TestClient, real: SchemaRegistry) -> None:
    assert http.get("/registry/schemas/types").json() == ["JSON"]
    assert http.get("/registry/config").json() == {"compatibilityLevel": "BACKWARD"}
    for spec in real.events():
        level = http.get(f"/registry/config/{spec.name}").json()
        assert level == {"compatibilityLevel": spec.compatibility}
    assert http.get("/registry/mode").json() == {"mode": "READONLY"}


def test_lookup_answers_the_version_a_schema_is_registered_under(
    http: TestClient, real: SchemaRegistry
) -> None:
    found = http.post(
        "/registry/subjects/FineAdded", json=body(real.schema("FineAdded", 0)), headers=CONFLUENT
    )
    assert found.status_code == 200, found.text
    assert (found.json()["version"], found.json()["id"]) == (1, 10001)
    other = http.post("/registry/subjects/FineAdded", json=body({"type": "object"}))
    assert error(other, 404, 40403) == "Schema not found"


# --- errors in Confluent's shape ---------------------------------------------------------------


def test_unknown_subjects_versions_and_ids(http: TestClient) -> None:
    message = error(http.get("/registry/subjects/ManagerSacked/versions"), 404, 40401)
    assert message == "Subject 'ManagerSacked' not found."
    assert error(http.get("/registry/config/ManagerSacked"), 404, 40401)
    assert error(http.get("/registry/subjects/BonusAdded/versions/9"), 404, 40402) == (
        "Version 9 not found."
    )
    for bad in ("0", "abc", "-2"):
        response = http.get(f"/registry/subjects/BonusAdded/versions/{bad}")
        assert f"'{bad}' is not a valid version id" in error(response, 422, 42202)
    assert error(http.get("/registry/schemas/ids/7"), 404, 40403) == "Schema 7 not found"
    assert error(http.get("/registry/schemas/ids/9002"), 404, 40403)


def test_writes_are_refused_the_registry_is_a_folder(http: TestClient) -> None:
    attempts = [
        http.post("/registry/subjects/BonusAdded/versions", json=body({"type": "object"})),
        http.delete("/registry/subjects/BonusAdded"),
        http.delete("/registry/subjects/BonusAdded/versions/1"),
        http.put("/registry/config/BonusAdded", json={"compatibility": "NONE"}),
        http.put("/registry/config", json={"compatibility": "NONE"}),
        http.put("/registry/mode", json={"mode": "READWRITE"}),
    ]
    for response in attempts:
        assert "read-only mode" in error(response, 422, 42205)


def test_an_invalid_schema_or_request_is_refused(http: TestClient) -> None:
    url = "/registry/compatibility/subjects/BonusAdded/versions/latest"
    assert "Invalid schema" in error(http.post(url, json={"schema": "{nope"}), 422, 42201)
    assert error(http.post(url, json=body({"type": 12})), 422, 42201)
    avro = {"schema": '{"type": "record"}', "schemaType": "AVRO"}
    assert "not AVRO" in error(http.post(url, json=avro), 422, 42201)
    assert "body.schema" in error(http.post(url, json={"schemaType": "JSON"}), 422, 422)


# --- compatibility ----------------------------------------------------------------------------


def test_compatibility_follows_the_subjects_mode(folder: Path) -> None:
    set_mode(folder, "ManagerCreated", "BACKWARD")
    http = client_for(SchemaRegistry.load(folder))
    url = "/registry/compatibility/subjects/{}/versions/latest"
    proposed = exercise_v1(folder, "ExerciseCreated")
    ok = http.post(url.format("ExerciseCreated"), json=body(proposed), headers=CONFLUENT)
    assert ok.json() == {"is_compatible": True}
    breaking = body(manager_v1(folder, "ManagerCreated"))
    refused = http.post(url.format("ManagerCreated"), json=breaking)
    assert refused.json() == {"is_compatible": False}
    verbose = http.post(url.format("ManagerCreated"), params={"verbose": "true"}, json=breaking)
    messages = verbose.json()["messages"]
    assert any("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL" in m for m in messages), messages
    everything = http.post(
        "/registry/compatibility/subjects/ManagerCreated/versions", json=breaking
    )
    assert everything.json() == {"is_compatible": False}


def test_compatibility_against_a_given_version(folder: Path) -> None:
    add_version(folder, "ManagerCreated", 1, manager_v1(folder, "ManagerCreated"))
    set_mode(folder, "ManagerCreated", "BACKWARD")
    http = client_for(SchemaRegistry.load(folder))
    nicknamed = manager_v1(folder, "ManagerCreated")
    nicknamed["properties"]["nickname"] = {"type": "string"}
    url = "/registry/compatibility/subjects/ManagerCreated/versions/{}"
    assert http.post(url.format(2), json=body(nicknamed)).json() == {"is_compatible": True}
    assert http.post(url.format(1), json=body(nicknamed)).json() == {"is_compatible": False}


# --- validation (ours, not Confluent's) --------------------------------------------------------


def test_validate_a_payload_or_a_whole_event_against_a_version(http: TestClient) -> None:
    url = "/registry/subjects/ExerciseCreated/versions/1/validate"
    payload = example_payload("ExerciseCreated", 0)
    assert http.post(url, json=payload).json() == {"valid": True, "errors": []}
    event = example_envelope("ExerciseCreated", 0)
    assert http.post(url, json=event).json() == {"valid": True, "errors": []}
    payload["check_mode"] = "fuzzy"
    refused = http.post(url, json=payload)
    assert refused.status_code == 422
    assert refused.json()["valid"] is False
    assert any(e.startswith("payload.check_mode:") for e in refused.json()["errors"])
    unknown = http.post("/registry/subjects/Nope/versions/1/validate", json=payload)
    assert error(unknown, 404, 40401)


# --- documentation ----------------------------------------------------------------------------


def test_the_registry_routes_are_in_the_openapi_document_and_the_docs_load(
    http: TestClient,
) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    assert "/registry/subjects/{subject}/versions/{version}" in paths
    assert "/registry/compatibility/subjects/{subject}/versions/{version}" in paths
    assert http.get("/docs").status_code == 200
