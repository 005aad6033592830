"""A started service is ready only when the process answering on its address is the one started.

Another process may hold the port first (a collision between two test workers, a forgotten
server): its `/ready` answers 200, and a check by status alone would call the new service
ready while every call reaches the wrong process. The probes carry the id the starter gave
the process, and `wait_ready` waits for that id.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from integration.http_server import serving
from teacher_hiring.foundation.ids import INSTANCE_HEADER
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.runtime.processes import SERVICES, Deployment, ServiceProcess


def _impostor() -> FastAPI:
    app = FastAPI()

    @app.get("/ready")
    def ready() -> dict[str, str]:
        return {"status": "ok"}

    return app


def test_a_port_held_by_another_server_is_never_taken_for_the_service(tmp_path: Path) -> None:
    port = free_port()
    deployment = Deployment(
        data_dir=tmp_path, ports={**{name: free_port() for name in SERVICES}, "bonus": port}
    )
    process = ServiceProcess("bonus", deployment)
    with serving(_impostor(), port):
        process.start()
        try:
            with pytest.raises((RuntimeError, TimeoutError)) as refused:
                process.wait_ready(timeout_s=30)
        finally:
            process.stop()
    assert "address already in use" in str(refused.value) or "another process" in str(refused.value)


def test_the_service_started_answers_with_the_id_it_was_given(tmp_path: Path) -> None:
    deployment = Deployment(data_dir=tmp_path, ports={name: free_port() for name in SERVICES})
    process = ServiceProcess("bonus", deployment)
    process.start()
    try:
        process.wait_ready(timeout_s=60)
        answer = httpx.get(process.url + "/health")
        assert answer.headers[INSTANCE_HEADER] == process.instance_id != ""
    finally:
        process.stop()
