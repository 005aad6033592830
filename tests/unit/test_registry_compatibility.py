"""CI: every new version of every event keeps the compatibility mode its event declares."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from teacher_hiring.messaging.compatibility import VersionCheck, check_candidate, check_registry
from teacher_hiring.messaging.registry import SchemaRegistry

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def report(broken: list[VersionCheck]) -> str:
    lines = ["versions that break their event's compatibility mode:"]
    for found in broken:
        previous = ", ".join(f"v{version}" for version in range(found.version))
        lines.append(f"{found.event} v{found.version} under {found.mode} (against {previous}):")
        lines += [f"  - {message}" for message in found.result.messages]
    return "\n".join(lines)


def test_every_version_of_every_event_keeps_its_declared_mode() -> None:
    broken = [
        found
        for found in check_registry(SchemaRegistry.load(SCHEMAS))
        if not found.result.compatible
    ]
    assert not broken, report(broken)


# --- the same check on registries made for the test ---------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the real registry holding v0 of every event only."""
    copy = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, copy, ignore=shutil.ignore_patterns("v[1-9]*.json"))
    return copy


def v0(folder: Path, name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((folder / name / "v0.json").read_text(encoding="utf-8"))
    return schema


def add_version(folder: Path, name: str, version: int, schema: dict[str, Any]) -> None:
    schema["$id"] = f"urn:teacher-hiring:event:{name}:v{version}"
    (folder / name / f"v{version}.json").write_text(json.dumps(schema), encoding="utf-8")


def set_mode(folder: Path, name: str, mode: str) -> None:
    catalogue_file = folder / "events.yaml"
    catalogue = yaml.safe_load(catalogue_file.read_text(encoding="utf-8"))
    catalogue[name]["compatibility"] = mode
    catalogue_file.write_text(yaml.safe_dump(catalogue, sort_keys=False), encoding="utf-8")


def exercise_v1(folder: Path, name: str) -> dict[str, Any]:
    """US-160: subject and difficulty, required but with defaults, in the closed payload."""
    schema = v0(folder, name)
    schema["properties"]["subject"] = {"type": "string", "minLength": 1, "default": "general"}
    schema["properties"]["difficulty"] = {
        "type": "integer",
        "minimum": 1,
        "maximum": 5,
        "default": 3,
    }
    schema["required"] += ["subject", "difficulty"]
    return schema


def manager_v1(folder: Path, name: str) -> dict[str, Any]:
    """US-170: name splits into first_name and last_name, and team arrives: a breaking change."""
    schema = v0(folder, name)
    del schema["properties"]["name"]
    for field in ("first_name", "last_name", "team"):
        schema["properties"][field] = {"type": "string", "minLength": 1}
    schema["required"] = ["manager_id", "first_name", "last_name", "team", "email"]
    return schema


def test_required_fields_with_defaults_in_a_closed_payload_pass_backward(folder: Path) -> None:
    for name in ("ExerciseCreated", "ExerciseUpdated"):
        add_version(folder, name, 1, exercise_v1(folder, name))
        set_mode(folder, name, "BACKWARD")
    checks = check_registry(SchemaRegistry.load(folder))
    assert [(c.event, c.version, c.mode, c.result.compatible) for c in checks] == [
        ("ExerciseCreated", 1, "BACKWARD", True),
        ("ExerciseUpdated", 1, "BACKWARD", True),
    ]


def test_the_check_catches_a_breaking_version_under_backward(folder: Path) -> None:
    add_version(folder, "ManagerCreated", 1, manager_v1(folder, "ManagerCreated"))
    set_mode(folder, "ManagerCreated", "BACKWARD")
    broken = [c for c in check_registry(SchemaRegistry.load(folder)) if not c.result.compatible]
    assert [(c.event, c.version, c.mode) for c in broken] == [("ManagerCreated", 1, "BACKWARD")]
    text = report(broken)
    assert "ManagerCreated v1 under BACKWARD (against v0)" in text
    assert "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL at #/properties/name" in text
    for field in ("first_name", "last_name", "team"):
        assert f"REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL at #/properties/{field}" in text


def test_a_breaking_version_passes_once_its_event_declares_none(folder: Path) -> None:
    for name in ("ManagerCreated", "ManagerUpdated"):
        add_version(folder, name, 1, manager_v1(folder, name))
        set_mode(folder, name, "NONE")
    assert all(c.result.compatible for c in check_registry(SchemaRegistry.load(folder)))


def test_a_transitive_mode_compares_a_third_version_with_the_first(folder: Path) -> None:
    name = "ManagerCreated"
    add_version(folder, name, 1, manager_v1(folder, name))
    nicknamed = manager_v1(folder, name)
    nicknamed["properties"]["nickname"] = {"type": "string"}
    add_version(folder, name, 2, nicknamed)
    set_mode(folder, name, "BACKWARD")
    registry = SchemaRegistry.load(folder)
    assert [c.result.compatible for c in check_registry(registry, [name])] == [False, True]
    set_mode(folder, name, "BACKWARD_TRANSITIVE")
    registry = SchemaRegistry.load(folder)
    assert [c.result.compatible for c in check_registry(registry, [name])] == [False, False]


def test_a_candidate_schema_is_checked_as_the_next_version(folder: Path) -> None:
    set_mode(folder, "ManagerCreated", "BACKWARD")
    registry = SchemaRegistry.load(folder)
    assert check_candidate(
        registry, "ExerciseCreated", exercise_v1(folder, "ExerciseCreated")
    ).compatible
    refused = check_candidate(registry, "ManagerCreated", manager_v1(folder, "ManagerCreated"))
    assert not refused.compatible
    assert check_candidate(
        registry, "ManagerCreated", manager_v1(folder, "ManagerCreated"), "NONE"
    ).compatible
