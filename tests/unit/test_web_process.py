"""The web pages as a process of the platform (runtime/processes.py), without starting one."""

from __future__ import annotations

from pathlib import Path

from teacher_hiring.runtime.processes import (
    DEFAULT_PORTS,
    DISTRIBUTED_INSTANCES,
    SERVICES,
    WEB,
    WEB_PORT,
    Deployment,
    Platform,
)
from teacher_hiring.runtime.proxy import Route


def test_the_web_pages_run_only_when_given_a_port() -> None:
    assert Deployment().names() == SERVICES
    assert sorted(Platform(Deployment()).processes) == sorted(SERVICES)
    with_web = Deployment(ports={WEB: WEB_PORT, **DEFAULT_PORTS})
    assert with_web.names() == (*SERVICES, WEB)
    assert sorted(Platform(with_web).processes) == sorted((*SERVICES, WEB))


def test_the_web_pages_call_each_service_at_its_one_address(tmp_path: Path) -> None:
    deployment = Deployment(
        data_dir=tmp_path, ports={WEB: 9000, "exercises": 9001, "hiring": 9002, "bonus": 9003}
    )
    env = deployment.env_for(WEB)
    assert env["WEB_PORT"] == "9000"
    assert env["WEB_DATABASE_URL"] == f"sqlite:///{tmp_path / 'web.db'}"
    assert env["WEB_AUTH_SECRET"] == deployment.auth_secret
    assert [env[f"WEB_{name.upper()}_URL"] for name in SERVICES] == [
        "http://127.0.0.1:9001",
        "http://127.0.0.1:9002",
        "http://127.0.0.1:9003",
    ]


def test_two_web_instances_share_one_address_behind_the_proxy() -> None:
    deployment = Deployment(
        ports={WEB: WEB_PORT, **DEFAULT_PORTS},
        instances={**DISTRIBUTED_INSTANCES, WEB: 2},
        database_urls={WEB: "postgresql+psycopg://teacher_hiring@127.0.0.1:5432/th_web"},
    )
    assert Route(("127.0.0.1", 8700), (("127.0.0.1", 8710), ("127.0.0.1", 8720))) in (
        deployment.routes()
    )
    first, second = (deployment.env_for(WEB, instance) for instance in (0, 1))
    assert (first["WEB_PORT"], second["WEB_PORT"]) == ("8710", "8720")
    assert first["WEB_DATABASE_URL"] == second["WEB_DATABASE_URL"]  # one session store
    assert first["WEB_DATABASE_URL"].endswith("/th_web")
    assert first["WEB_HIRING_URL"] == "http://127.0.0.1:8702"  # the proxy, not an instance
    assert sorted(Platform(deployment).processes) == sorted(
        [*(f"{name}{suffix}" for name in (*SERVICES, WEB) for suffix in ("", "-2"))]
    )
