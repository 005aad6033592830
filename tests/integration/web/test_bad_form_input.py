"""Bad input on the web pages' forms and at the web process's door: a refusal (4xx) naming
the field, never a 500, and nothing written (no account, no call to a service).

The kinds, as on the services (tests/integration/test_bad_input.py): NUL characters in a form,
the path or the query, numbers too large for a form's number fields, bytes that are not UTF-8,
JSON nested thousands deep, oversized headers and bodies; and `/ready` without error text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from integration.web.web_support import a_signed_in_candidate, accounts, csrf, pages
from teacher_hiring.runtime.input_bounds import MAX_HEADER_VALUE_BYTES
from teacher_hiring.web.bootstrap import MAX_REQUEST_BYTES

pytestmark = pytest.mark.integration

EXERCISE = {
    "exercise_id": "ex-1",
    "title": "Sum",
    "statement": "2+3?",
    "subject": "mathematics",
    "difficulty": 1,
    "version": 1,
    "solved": False,
    "attempts_left": 5,
}


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def web(tmp_path: Path, calls: list[str]) -> Iterator[TestClient]:
    """The pages, every service answered by a stand-in that records the call: a candidate's
    exercise for reads, 201 for anything written."""

    def services(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.method == "GET":
            return httpx.Response(200, json=[EXERCISE])
        return httpx.Response(201, json={"id": "cand-1", "access_token": "x", "exercises": []})

    with pages(tmp_path, services, raise_server_exceptions=False) as client:
        yield client


def _form(pairs: dict[str, str]) -> dict[str, Any]:
    return {
        "content": "&".join(f"{k}={v}" for k, v in pairs.items()).encode(),
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    }


def test_a_registration_with_a_nul_in_a_field_is_refused_naming_it_and_writes_nothing(
    web: TestClient, calls: list[str]
) -> None:
    token = csrf(web, "/register")
    calls.clear()
    fields = {
        "csrf": token,
        "name": "Iv%00an",
        "email": "ivan%40mail.example",
        "subject": "physics",
        "password": "correct+horse+battery",
    }

    refused = web.post("/register", **_form(fields))

    assert refused.status_code == 422
    assert "body.name: holds a NUL character" in refused.text
    assert calls == []  # hiring was never asked
    assert accounts(web).by_email("ivan@mail.example") is None


def test_a_sign_in_with_a_nul_in_the_email_is_refused_naming_it(web: TestClient) -> None:
    fields = {"csrf": csrf(web, "/sign-in"), "email": "a%00%40b.example", "password": "x"}
    refused = web.post("/sign-in", **_form(fields))
    assert refused.status_code == 422
    assert "body.email: holds a NUL character" in refused.text


@pytest.mark.parametrize("version", ["9" * 5000, "²", str(2**70)])
def test_an_answers_version_that_is_no_64_bit_number_is_a_page_asking_again(
    web: TestClient, calls: list[str], version: str
) -> None:
    a_signed_in_candidate(web)
    token = csrf(web, "/candidates/cand-1/exercises/ex-1")
    calls.clear()
    form = {"csrf": token, "answer": "5", "version": version, "idempotency_key": "k-1"}

    page = web.post("/candidates/cand-1/exercises/ex-1", data=form)

    assert page.status_code == 422
    assert "missing the exercise" in page.text
    assert not any(call.startswith("POST") for call in calls)  # no answer was sent


def test_bytes_that_are_not_utf8_in_a_form_are_no_server_error(web: TestClient) -> None:
    content = b"csrf=x&email=\xff\xfe%FF&password=\xc3"
    refused = web.post(
        "/sign-in",
        content=content,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= refused.status_code < 500


@pytest.mark.parametrize("path", ["/sign-in", "/register", "/candidates/cand-1/exercises/ex-1"])
def test_json_nested_thousands_deep_is_no_server_error(web: TestClient, path: str) -> None:
    """No page reads JSON: refused by the form's CSRF check, or at the door if it were read."""
    refused = web.post(
        path, content=b"[" * 5000 + b"]" * 5000, headers={"content-type": "application/json"}
    )
    assert refused.status_code in (403, 422)


def test_nul_in_the_address_and_oversized_headers_and_bodies_are_refused(
    web: TestClient,
) -> None:
    in_query = web.get("/sign-in?next=%2F%00")
    assert in_query.status_code == 422
    assert in_query.text == "query.next: holds a NUL character"

    in_path = web.get("/candidates/cand%00-1")
    assert in_path.status_code == 422
    assert in_path.text == "path: holds a NUL character"

    long_value = web.get("/sign-in", headers={"x-note": "a" * (MAX_HEADER_VALUE_BYTES + 1)})
    assert long_value.status_code == 431
    assert long_value.text.startswith("header x-note: longer than")

    many = {f"x-note-{n}": "a" * 4000 for n in range(10)}
    assert web.get("/sign-in", headers=many).status_code == 431

    fields = {"csrf": "x", "email": "a@b.example", "password": "p" * MAX_REQUEST_BYTES}
    too_large = web.post("/sign-in", **_form(fields))
    assert too_large.status_code == 413
    assert f"larger than {MAX_REQUEST_BYTES} bytes" in too_large.text


def test_ready_names_the_failing_part_without_the_databases_error(
    web: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = 'password authentication failed for user "web_owner"'

    def failing(*_args: Any, **_kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception(secret))

    monkeypatch.setattr(accounts(web).engine, "connect", failing)
    answer = web.get("/ready")
    assert answer.status_code == 503
    assert answer.text == "not ready: database"
