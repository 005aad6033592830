"""A started service keeps what its start-up built out of the garbage collector's full passes
(runtime/http.py): walking it all would stop every request for tens of milliseconds. A stopped
one gives it back, so a process that starts app after app does not keep them all."""

from __future__ import annotations

import gc
from pathlib import Path

from fastapi.testclient import TestClient

from integration.credentials import OPERATOR
from integration.hiring.hiring_support import make_settings
from teacher_hiring.hiring.bootstrap import bootstrap


def test_start_up_objects_are_frozen_while_the_service_runs(tmp_path: Path) -> None:
    gc.unfreeze()
    app = bootstrap(make_settings(tmp_path, database_url=f"sqlite:///{tmp_path}/hiring.db"))
    assert gc.get_freeze_count() == 0
    try:
        with TestClient(app, headers=OPERATOR) as http:
            assert http.get("/ready").status_code == 200
            frozen = gc.get_freeze_count()
            assert frozen > 10_000  # the modules, the app and its routes, not a handful
            assert gc.isenabled()
        assert gc.get_freeze_count() == 0  # stopped: the app can be collected
    finally:
        gc.unfreeze()
