"""`teacher-hiring registry ...` on the real registry and on registries made for the test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from event_examples import example_envelope, example_payload
from test_registry_compatibility import SCHEMAS, add_version, exercise_v1, manager_v1, set_mode
from typer.testing import CliRunner, Result

from teacher_hiring.cli import app
from teacher_hiring.messaging.registry import SchemaRegistry

runner = CliRunner()


def registry_cli(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, ["registry", *args], input=stdin, env={"COLUMNS": "200"})


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, copy, ignore=shutil.ignore_patterns("v[1-9]*.json"))
    return copy


def write_json(path: Path, data: object) -> str:
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_list_shows_every_event_with_its_versions_topic_and_mode() -> None:
    result = registry_cli("list")
    assert result.exit_code == 0, result.output
    for spec in SchemaRegistry.load(SCHEMAS).events():
        row = next(line for line in result.output.splitlines() if f" {spec.name} " in line)
        assert ", ".join(f"v{v}" for v in spec.versions) in row
        assert spec.topic in row and spec.compatibility in row


def test_show_prints_a_version_as_json_and_the_latest_by_default(folder: Path) -> None:
    result = registry_cli("--schemas", str(folder), "show", "ManagerCreated", "--version", "0")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == SchemaRegistry.load(folder).schema("ManagerCreated", 0)
    add_version(folder, "ManagerCreated", 1, manager_v1(folder, "ManagerCreated"))
    latest = json.loads(registry_cli("--schemas", str(folder), "show", "ManagerCreated").output)
    assert latest["$id"].endswith(":v1")


def test_show_names_an_unknown_event_or_version() -> None:
    result = registry_cli("show", "ManagerSacked")
    assert result.exit_code == 2
    assert "'ManagerSacked' is not a registered event" in result.output
    result = registry_cli("show", "BonusAdded", "--version", "7")
    assert result.exit_code == 2
    assert "BonusAdded has no version 7" in result.output


def test_validate_accepts_a_valid_payload_from_a_file(tmp_path: Path) -> None:
    document = write_json(tmp_path / "p.json", example_payload("ExerciseCreated", 0))
    result = registry_cli("validate", "ExerciseCreated", "0", document)
    assert result.exit_code == 0, result.output
    assert "valid payload for ExerciseCreated v0" in result.output


def test_validate_names_each_invalid_field_and_exits_1(tmp_path: Path) -> None:
    payload = example_payload("ExerciseCreated", 0)
    payload["version"] = 0
    del payload["title"]
    result = registry_cli("validate", "ExerciseCreated", "0", write_json(tmp_path / "p", payload))
    assert result.exit_code == 1
    assert "invalid against ExerciseCreated v0" in result.output
    assert "payload.version: 0 is less than the minimum of 1" in result.output
    assert 'payload: "title" is a required property' in result.output


def test_validate_checks_a_whole_event_read_from_stdin() -> None:
    event = example_envelope("BonusAdded", 0)
    result = registry_cli("validate", "BonusAdded", "0", "-", stdin=json.dumps(event))
    assert result.exit_code == 0, result.output
    assert "valid event for BonusAdded v0" in result.output
    result = registry_cli("validate", "FineAdded", "0", "-", stdin=json.dumps(event))
    assert result.exit_code == 1
    assert "the document is 'BonusAdded' version 0, not 'FineAdded' version 0" in result.output


def test_validate_refuses_what_is_not_json() -> None:
    result = registry_cli("validate", "BonusAdded", "0", "-", stdin="{nope")
    assert result.exit_code == 1
    assert "-: not JSON" in result.output


def test_check_passes_on_the_real_registry() -> None:
    result = registry_cli("check")
    assert result.exit_code == 0, result.output
    assert "every version keeps its event's compatibility mode" in result.output


def test_check_exits_1_and_prints_the_differences_of_a_breaking_version(folder: Path) -> None:
    add_version(folder, "ManagerCreated", 1, manager_v1(folder, "ManagerCreated"))
    set_mode(folder, "ManagerCreated", "BACKWARD")
    add_version(folder, "ExerciseCreated", 1, exercise_v1(folder, "ExerciseCreated"))
    result = registry_cli("--schemas", str(folder), "check")
    assert result.exit_code == 1
    assert "ManagerCreated v1 breaks BACKWARD" in result.output
    assert "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL at #/properties/name" in result.output
    assert "ExerciseCreated v1 breaks" not in result.output
    only = registry_cli("--schemas", str(folder), "check", "ExerciseCreated")
    assert only.exit_code == 0, only.output


def test_compat_tells_whether_a_proposed_schema_would_be_the_next_version(
    folder: Path, tmp_path: Path
) -> None:
    proposed = write_json(tmp_path / "e.json", exercise_v1(folder, "ExerciseCreated"))
    result = registry_cli("--schemas", str(folder), "compat", "ExerciseCreated", proposed)
    assert result.exit_code == 0, result.output
    assert "accepted as ExerciseCreated v1 under BACKWARD" in result.output
    manager = write_json(tmp_path / "m.json", manager_v1(folder, "ManagerCreated"))
    refused = registry_cli(
        "--schemas", str(folder), "compat", "ManagerCreated", manager, "--mode", "full"
    )
    assert refused.exit_code == 1
    assert "refused as ManagerCreated v1 under FULL" in refused.output
    assert "FORWARD: v0 cannot read data written with the new schema" in refused.output


def test_compat_refuses_an_unknown_mode_and_a_document_that_is_no_schema(tmp_path: Path) -> None:
    schema = write_json(tmp_path / "s.json", {"type": "object"})
    assert registry_cli("compat", "BonusAdded", schema, "--mode", "SIDEWAYS").exit_code == 2
    not_a_schema = write_json(tmp_path / "n.json", {"type": 12})
    result = registry_cli("compat", "BonusAdded", not_a_schema)
    assert result.exit_code == 1
    assert "not a valid JSON Schema" in result.output


def test_a_broken_schema_folder_is_reported_not_raised(folder: Path) -> None:
    (folder / "BonusAdded" / "v0.json").write_text("{", encoding="utf-8")
    result = registry_cli("--schemas", str(folder), "list")
    assert result.exit_code == 2
    assert "BonusAdded/v0.json: not valid JSON" in result.output
