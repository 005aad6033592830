"""The hiring service on SQLite and on PostgreSQL, with a real embedded event log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from integration.credentials import OPERATOR
from integration.hiring.hiring_support import Hiring, make_settings
from teacher_hiring.hiring.bootstrap import bootstrap


@pytest.fixture
def hiring(tmp_path: Path, database_url: str) -> Iterator[Hiring]:
    app = bootstrap(make_settings(tmp_path, database_url=database_url))
    with TestClient(app, headers=OPERATOR) as http:
        service = Hiring(app, http)
        try:
            yield service
        finally:
            for runner in service.runtime.runners:
                runner.close()
