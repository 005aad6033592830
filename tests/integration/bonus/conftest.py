"""The bonus service on SQLite and on PostgreSQL, fed through the embedded event log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from integration.bonus.bonus_support import Bonus, make_settings
from integration.credentials import OPERATOR
from teacher_hiring.bonus.bootstrap import bootstrap
from teacher_hiring.messaging.embedded_log import EmbeddedLog


@pytest.fixture
def bonus(tmp_path: Path, database_url: str) -> Iterator[Bonus]:
    app = bootstrap(make_settings(tmp_path, database_url=database_url))
    with TestClient(app, headers=OPERATOR) as http:
        service = Bonus(app, http, EmbeddedLog(tmp_path / "events.db"))
        try:
            yield service
        finally:
            for runner in service.runtime.runners:
                runner.close()
            service.log.close()
