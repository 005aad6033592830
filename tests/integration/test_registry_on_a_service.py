"""A real service serves the registry it was built with under /registry, and its docs still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from integration.credentials import OPERATOR
from teacher_hiring.exercises.bootstrap import bootstrap
from teacher_hiring.exercises.settings import ExercisesSettings

pytestmark = pytest.mark.integration


def test_the_exercises_service_serves_its_registry_in_confluents_shape(tmp_path: Path) -> None:
    settings = ExercisesSettings(
        database_url=f"sqlite:///{tmp_path}/exercises.db",
        event_log_url=f"sqlite:///{tmp_path}/events.db",
        run_workers=False,
        log_format="console",
    )
    with TestClient(bootstrap(settings), headers=OPERATOR) as http:
        registry = http.app.state.runtime.registry  # type: ignore[attr-defined]
        spec = registry.spec("ExerciseCreated")
        latest = http.get("/registry/subjects/ExerciseCreated/versions/latest").json()
        assert latest["version"] == spec.latest_version + 1
        assert latest["eventVersion"] == spec.latest_version
        assert json.loads(latest["schema"]) == registry.schema(
            "ExerciseCreated", spec.latest_version
        )
        missing = http.get("/registry/subjects/Nope/versions")
        assert missing.status_code == 404 and missing.json()["error_code"] == 40401
        assert "/registry/subjects" in http.get("/openapi.json").json()["paths"]
        assert http.get("/docs").status_code == 200
