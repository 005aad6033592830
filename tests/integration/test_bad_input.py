"""Bad input at every door: each kind, on every operation of every service's OpenAPI document
(the registry's and the operators' included), is a refusal (4xx) naming what was wrong, never
a 500, and writes nothing.

The kinds: JSON nested thousands deep (a RecursionError, a 500, before the bound), numbers
beyond 64 bits in a body, a query or a path, bytes that are not UTF-8 and escapes that no UTF-8
text can hold, NUL characters in a body, the path or the query, and oversized headers. The
bounds are runtime/input_bounds.py's; the web pages' forms are in web/test_bad_form_input.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from integration.credentials import OPERATOR, SERVICE, as_candidate, bearer
from teacher_hiring.bonus.bootstrap import bootstrap as bonus
from teacher_hiring.bonus.settings import BonusSettings
from teacher_hiring.exercises.bootstrap import bootstrap as exercises
from teacher_hiring.exercises.settings import ExercisesSettings
from teacher_hiring.hiring.bootstrap import bootstrap as hiring
from teacher_hiring.hiring.settings import HiringSettings
from teacher_hiring.runtime import http as service_http
from teacher_hiring.runtime.input_bounds import MAX_DEPTH, MAX_HEADER_VALUE_BYTES
from teacher_hiring.runtime.tokens import Role

pytestmark = pytest.mark.integration

SERVICES = {
    "exercises": (exercises, ExercisesSettings),
    "hiring": (hiring, HiringSettings),
    "bonus": (bonus, BonusSettings),
}
HUGE = 2**70
DEEP = b"[" * 5000 + b"]" * 5000
"""Well under every service's body limit, far over Python's recursion limit."""
BODIES = {
    "nested too deep": (DEEP, "nested deeper than"),
    "nested too deep in an object": (
        b'{"a":' * (MAX_DEPTH + 5) + b"1" + b"}" * (MAX_DEPTH + 5),
        "nested deeper than",
    ),
    "a NUL in a string": (b'{"name": "Iv\\u0000an"}', "body.name: holds a NUL"),
    "a NUL in a key": (b'{"na\\u0000me": "Ivan"}', "a key holds a NUL"),
    "a number beyond 64 bits": (b'{"version": %d}' % HUGE, "body.version: a number beyond"),
    "a number beyond a double": (b'{"amount": 1' + b"0" * 400 + b"}", "a number beyond"),
    "a lone surrogate": (b'{"name": "\\ud800"}', "lone surrogate"),
    "bytes that are not UTF-8": (b'{"name": "\xff\xfe"}', "UTF-8"),
}


def _app(name: str, folder: Path) -> FastAPI:
    build, settings_class = SERVICES[name]
    config = settings_class(
        database_url=f"sqlite:///{folder}/{name}.db",
        event_log_url=f"sqlite:///{folder}/events.db",
        run_workers=False,
        log_level="critical",
    )
    return build(config)


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TestClient]]:
    folder = tmp_path_factory.mktemp("bad-input")
    with (
        TestClient(_app("exercises", folder), raise_server_exceptions=False) as one,
        TestClient(_app("hiring", folder), raise_server_exceptions=False) as two,
        TestClient(_app("bonus", folder), raise_server_exceptions=False) as three,
    ):
        yield {"exercises": one, "hiring": two, "bonus": three}


def _operations(client: TestClient) -> Iterator[tuple[str, str, dict[str, Any]]]:
    document = client.get("/openapi.json").json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def _filled(path: str, operation: dict[str, Any], integer: str = "1") -> str:
    """The path with each parameter given: `integer` for an integer one, else a word."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            kind = parameter.get("schema", {}).get("type")
            value = integer if kind == "integer" else "p-1"
            path = path.replace("{" + parameter["name"] + "}", value)
    return path


def _caller(method: str, path: str) -> dict[str, str]:
    """A token that reaches the route's own checks (as the fuzzing's)."""
    if path.startswith("/api/"):
        return SERVICE
    if method == "POST" and "/candidates/{candidate_id}" in path:
        return as_candidate("p-1")
    return OPERATOR


def _refused(response: Any, operation: str) -> None:
    assert 400 <= response.status_code < 500, (
        f"{operation}: {response.status_code} {response.text[:300]}"
    )


@pytest.mark.parametrize("service", list(SERVICES))
@pytest.mark.parametrize("kind", list(BODIES))
def test_every_body_that_is_unsafe_is_a_422_naming_it_on_every_operation(
    clients: dict[str, TestClient], service: str, kind: str
) -> None:
    client = clients[service]
    body, named = BODIES[kind]
    tried = 0
    for method, path, operation in _operations(client):
        if "requestBody" not in operation:
            continue
        tried += 1
        response = client.request(
            method,
            _filled(path, operation),
            content=body,
            headers={**_caller(method, path), "content-type": "application/json"},
        )
        label = f"{service} {method} {path} ({kind})"
        _refused(response, label)
        if response.status_code == 422:
            assert named in response.text, f"{label}: {response.text[:300]}"
    assert tried >= 3


@pytest.mark.parametrize("service", list(SERVICES))
def test_integers_beyond_64_bits_in_a_query_or_a_path_are_refused(
    clients: dict[str, TestClient], service: str
) -> None:
    client = clients[service]
    tried = 0
    for method, path, operation in _operations(client):
        parameters = operation.get("parameters", [])
        integers = [
            p["name"]
            for p in parameters
            if p["in"] == "query" and p.get("schema", {}).get("type") == "integer"
        ]
        in_path = any(
            p["in"] == "path" and p.get("schema", {}).get("type") == "integer" for p in parameters
        )
        if not integers and not in_path:
            continue
        tried += 1
        response = client.request(
            method,
            _filled(path, operation, integer=str(HUGE)),
            params={name: str(HUGE) for name in integers},
            headers=_caller(method, path),
            json={} if "requestBody" in operation else None,
        )
        _refused(response, f"{service} {method} {path}")
    assert tried >= 1


@pytest.mark.parametrize("service", list(SERVICES))
def test_nul_in_the_path_or_the_query_and_oversized_headers_are_refused_on_every_operation(
    clients: dict[str, TestClient], service: str
) -> None:
    client = clients[service]
    for method, path, operation in _operations(client):
        address = _filled(path, operation)
        label = f"{service} {method} {path}"
        caller = _caller(method, path)

        in_query = client.request(method, address + "?subject=a%00b", headers=caller)
        assert in_query.status_code == 422, f"{label}: {in_query.text[:200]}"
        assert "query.subject: holds a NUL character" in in_query.text

        long_value = client.request(
            method, address, headers={**caller, "x-note": "a" * (MAX_HEADER_VALUE_BYTES + 1)}
        )
        assert long_value.status_code == 431, label
        assert long_value.json()["detail"].startswith("header x-note: longer than")

        many = {f"x-note-{n}": "a" * 4000 for n in range(10)}
        too_many = client.request(method, address, headers={**caller, **many})
        assert too_many.status_code == 431, label
        assert too_many.json()["detail"].startswith("headers: larger than")

        if "p-1" in address:
            nul_path = client.request(method, address.replace("p-1", "p%00"), headers=caller)
            assert nul_path.status_code == 422, f"{label}: {nul_path.text[:200]}"
            assert "path: holds a NUL character" in nul_path.text


def test_a_registration_with_a_nul_in_the_name_is_refused_naming_it_and_writes_nothing(
    clients: dict[str, TestClient],
) -> None:
    client = clients["hiring"]
    before = client.get("/candidates", headers=OPERATOR).json()["total"]

    refused = client.post(
        "/candidates",
        content=b'{"name": "Iv\\u0000an", "email": "ivan@mail.example", "subject": "physics"}',
        headers={"content-type": "application/json"},
    )

    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "name"]
    assert client.get("/candidates", headers=OPERATOR).json()["total"] == before


def test_a_schema_nested_thousands_deep_is_an_invalid_schema_on_the_public_registry(
    clients: dict[str, TestClient],
) -> None:
    deep_schema = '{"not":' * 5000 + "{}" + "}" * 5000
    for path in (
        "/registry/compatibility/subjects/ManagerCreated/versions",
        "/registry/compatibility/subjects/ManagerCreated/versions/latest",
        "/registry/subjects/ManagerCreated",
    ):
        answer = clients["bonus"].post(path, json={"schema": deep_schema})  # no token: public
        assert answer.status_code == 422, (path, answer.text[:200])
        assert answer.json() == {
            "error_code": 42201,
            "message": f"Invalid schema: schema: nested deeper than {MAX_DEPTH} levels",
        }


def test_a_document_nested_thousands_deep_is_refused_by_the_registrys_validation(
    clients: dict[str, TestClient],
) -> None:
    answer = clients["exercises"].post(
        "/registry/subjects/ManagerCreated/versions/1/validate",
        content=b'{"name":' * 5000 + b"1" + b"}" * 5000,
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.json() == {
        "error_code": 422,
        "message": f"Unprocessable request: body: nested deeper than {MAX_DEPTH} levels",
    }


def test_ready_names_the_failing_part_and_shows_its_error_only_to_an_operator(
    clients: dict[str, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = 'password authentication failed for user "hiring_owner" at 10.0.0.7'

    def failing(_engine: Any) -> Any:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception(secret))

    monkeypatch.setattr(service_http, "read_only", failing)
    for service, client in clients.items():
        for caller in ({}, as_candidate("c-1"), bearer(Role.manager, "m-1"), SERVICE):
            answer = client.get("/ready", headers=caller)
            assert answer.status_code == 503, service
            assert answer.json() == {
                "status": "unavailable",
                "checks": {"database": "not ready", "workers": "ok"},
            }
            assert "hiring_owner" not in answer.text and "10.0.0.7" not in answer.text
        detailed = client.get("/ready", headers=OPERATOR)
        assert detailed.status_code == 503
        assert "hiring_owner" in detailed.json()["checks"]["database"]
