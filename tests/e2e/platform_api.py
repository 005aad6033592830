"""The three services as separate OS processes on the embedded log, driven over HTTP."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration.credentials import OPERATOR, SERVICE, as_candidate, as_manager
from integration.kafka_broker import running_broker
from integration.postgres_server import ROLE, drop_database
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.runtime.processes import SERVICES, Deployment, Platform

DEPLOYMENTS = [
    "embedded",
    pytest.param("kafka-postgres", marks=[pytest.mark.kafka, pytest.mark.postgres]),
]


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    with running_broker() as bootstrap:
        yield bootstrap


@contextmanager
def on_kafka_and_postgres(
    request: pytest.FixtureRequest, deployment: Deployment, bootstrap: str | None = None
) -> Iterator[None]:
    """Points the deployment at the test broker (or the one at `bootstrap`) and at fresh
    databases, with a topic prefix of its own; drops the databases afterwards."""
    server = request.getfixturevalue("postgres_server")
    admin = request.getfixturevalue("postgres_admin")
    bootstrap = bootstrap or request.getfixturevalue("kafka_bootstrap")
    deployment.log_url = f"kafka://{bootstrap}"
    deployment.topic_prefix = f"e2e-{uuid.uuid4().hex[:10]}."
    created: list[str] = []
    urls = {}
    try:
        for name in SERVICES:
            database = f"th_e2e_{name}_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{database}" OWNER {ROLE}')
            created.append(database)
            urls[name] = server.url(database)
        deployment.database_urls = urls
        yield
    finally:
        for database in created:
            drop_database(admin, database)


@contextmanager
def running(platform: Platform, timeout_s: float = 90) -> Iterator[Platform]:
    """Starts every process; stops them and prints the tail of each log at the end."""
    try:
        platform.start(timeout_s=timeout_s)
        yield platform
    finally:
        platform.stop()
        for label in platform.processes:
            log = platform.deployment.data_dir / "logs" / f"{label}.log"
            if log.exists():
                tail = log.read_text(errors="replace").splitlines()[-15:]
                print(f"--- {label} log (tail) ---", *tail, sep="\n")


@pytest.fixture
def platform_env() -> dict[str, str]:
    """Settings of the platform's processes beyond the defaults (EXERCISES_..., HIRING_...); a
    test module overrides this fixture to start the platform otherwise."""
    return {}


@pytest.fixture(params=DEPLOYMENTS)
def platform(
    request: pytest.FixtureRequest, tmp_path: Path, platform_env: dict[str, str]
) -> Iterator[Platform]:
    """The three services as processes: on SQLite and the embedded log, or on PostgreSQL and
    Kafka (fresh databases and topics of their own for each test)."""
    deployment = Deployment(
        data_dir=tmp_path / "var",
        ports={name: free_port() for name in SERVICES},
        partitions=3,
        extra_env=platform_env,
    )
    with ExitStack() as stack:
        if request.param == "kafka-postgres":
            stack.enter_context(on_kafka_and_postgres(request, deployment))
        yield stack.enter_context(running(Platform(deployment)))


class Api:
    """Thin HTTP helpers with the platform's vocabulary.

    Calls are an operator's unless they say otherwise: a submission is its candidate's, an
    exercise is written by its author; `operator`, `service`, `candidate()` and `manager_token()`
    are the headers of each role (the tokens minted with the test session's secret, which the
    platform's Deployment runs on, docs/security.md).
    """

    operator = OPERATOR
    service = SERVICE

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.client = httpx.Client(timeout=10, headers=OPERATOR)

    @staticmethod
    def as_candidate(candidate_id: str) -> dict[str, str]:
        return as_candidate(candidate_id)

    @staticmethod
    def as_manager(manager_id: str) -> dict[str, str]:
        return as_manager(manager_id)

    def url(self, service: str, path: str) -> str:
        return self.platform[service].url + path

    def call(self, method: str, service: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, self.url(service, path), **kwargs)

    def ok(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, service, path, **kwargs)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json()

    def manager(self, name: str = "Anna Petrova", team: str | None = None) -> str:
        """A new manager; `name` is split at its first space into first and last name."""
        first_name, _, last_name = name.partition(" ")
        body = {
            "first_name": first_name,
            "last_name": last_name,
            "team": team,
            "email": name.lower().replace(" ", ".") + "@school.example",
        }
        return str(self.ok("POST", "exercises", "/managers", json=body)["id"])

    def exercise(
        self,
        author_id: str,
        answer: str,
        title: str = "Sum",
        *,
        subject: str = "general",
        difficulty: int = 3,
    ) -> str:
        body = {
            "author_id": author_id,
            "title": title,
            "statement": f"Statement of {title}",
            "accepted_answers": [answer],
            "check_mode": "normalized",
            "subject": subject,
            "difficulty": difficulty,
        }
        created = self.ok(
            "POST", "exercises", "/exercises", json=body, headers=as_manager(author_id)
        )
        return str(created["id"])

    def candidate(self, name: str = "Ivan", subject: str | None = None) -> dict[str, Any]:
        # one candidate per email: the same name twice on one platform is two people
        local = f"{name.lower().replace(' ', '.')}.{uuid.uuid4().hex[:8]}"
        body = {"name": name, "email": f"{local}@mail.example"}
        if subject is not None:
            body["subject"] = subject
        # a key, as every client of the route sends: a retry is answered, not refused (409)
        key = {"Idempotency-Key": uuid.uuid4().hex}
        result: dict[str, Any] = self.ok("POST", "hiring", "/candidates", json=body, headers=key)
        return result

    def submit(
        self, candidate_id: str, exercise_id: str, version: int, answer: str, key: str | None = None
    ) -> httpx.Response:
        headers = as_candidate(candidate_id) | ({"Idempotency-Key": key} if key else {})
        return self.call(
            "POST",
            "hiring",
            f"/candidates/{candidate_id}/submissions",
            json={"exercise_id": exercise_id, "exercise_version": version, "answer": answer},
            headers=headers,
        )

    def hiring_knows(
        self, exercise_ids: list[str], version: int = 1, timeout_s: float = 20.0
    ) -> None:
        def known() -> bool:
            items = self.ok("GET", "hiring", "/exercises")
            items = items if isinstance(items, list) else items["items"]
            versions = {item["exercise_id"]: item["version"] for item in items}
            return all(versions.get(e, 0) >= version for e in exercise_ids)

        eventually(
            known, what=f"hiring knows {exercise_ids} at version {version}", timeout_s=timeout_s
        )

    def ledger(self, manager_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.ok("GET", "bonus", f"/accounts/{manager_id}")
        return result

    def entries(self, manager_id: str) -> list[dict[str, Any]]:
        body = self.ok("GET", "bonus", f"/accounts/{manager_id}/entries", params={"limit": 500})
        return list(body if isinstance(body, list) else body["items"])


def eventually(check: Callable[[], Any], *, what: str, timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (httpx.HTTPError, AssertionError, KeyError) as exc:
            last = exc
        time.sleep(0.05)
    raise AssertionError(f"not true after {timeout_s}s: {what} (last: {last!r})")


@pytest.fixture
def api(platform: Platform) -> Iterator[Api]:
    client = Api(platform)
    yield client
    client.client.close()
