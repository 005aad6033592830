"""The exercises service on SQLite and on PostgreSQL, driven over HTTP and the event log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from integration.credentials import OPERATOR
from integration.exercises.exercises_support import Service, ServiceFactory
from teacher_hiring.exercises.bootstrap import bootstrap
from teacher_hiring.exercises.settings import ExercisesSettings


@pytest.fixture
def make_service(tmp_path: Path, database_url: str) -> Iterator[ServiceFactory]:
    """Build the service with settings overrides; event mode unless a test asks for push."""
    stack: list[tuple[Service, TestClient]] = []

    def make(**overrides: Any) -> Service:
        settings = ExercisesSettings(
            database_url=database_url,
            event_log_url=f"sqlite:///{tmp_path}/events.db",
            run_workers=False,
            exercise_updates_link=overrides.pop("exercise_updates_link", "event"),
            log_format="console",
            **overrides,
        )
        client = TestClient(bootstrap(settings), headers=OPERATOR)
        client.__enter__()
        service = Service(client)
        stack.append((service, client))
        return service

    yield make
    for service, client in reversed(stack):
        service.close()
        client.__exit__(None, None, None)


@pytest.fixture
def service(make_service: ServiceFactory) -> Service:
    return make_service()
