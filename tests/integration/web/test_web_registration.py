"""Registering on the pages against the real hiring service (in process, SQLite): a form sent
again after its answer was lost opens the account of the registration hiring made."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from integration.credentials import OPERATOR
from integration.hiring.hiring_support import Hiring, make_settings
from integration.web.web_support import PASSWORD, accounts, csrf, pages
from teacher_hiring.hiring.bootstrap import bootstrap
from teacher_hiring.web.accounts.tables import accounts as accounts_table
from teacher_hiring.web.accounts.tables import sessions
from teacher_hiring.web.bootstrap import create_app
from teacher_hiring.web.settings import WebSettings

pytestmark = pytest.mark.integration

FORM = {"name": "Irina Petrova", "email": "irina@mail.example", "subject": "", "password": PASSWORD}


@pytest.fixture
def hiring(tmp_path: Path) -> Iterator[Hiring]:
    (tmp_path / "hiring").mkdir()
    app = bootstrap(make_settings(tmp_path / "hiring"))
    with TestClient(app, headers=OPERATOR) as http:
        service = Hiring(app, http)
        service.add_exercise(answers=("x",))
        try:
            yield service
        finally:
            for runner in service.runtime.runners:
                runner.close()


@pytest.fixture
def web(tmp_path: Path, hiring: Hiring) -> Iterator[TestClient]:
    def to_hiring(request: httpx.Request) -> httpx.Response:
        answer = hiring.http.request(
            request.method,
            request.url.path,
            content=request.content,
            headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    with pages(tmp_path, to_hiring) as client:
        yield client


def _register(web: TestClient, **changes: str) -> httpx.Response:
    web.cookies.clear()
    return web.post("/register", data={"csrf": csrf(web, "/register"), **FORM, **changes})


def _forget_the_account(web: TestClient) -> None:
    """As if the page stopped after hiring's answer, before it opened the account."""
    with accounts(web).engine.begin() as conn:
        conn.execute(sessions.delete())
        conn.execute(accounts_table.delete())


def _candidates(hiring: Hiring) -> list[dict[str, object]]:
    items: list[dict[str, object]] = hiring.http.get("/candidates").json()["items"]
    return items


def test_a_registration_sent_again_opens_the_account_of_the_candidate_hiring_made(
    web: TestClient, hiring: Hiring
) -> None:
    first = _register(web)
    assert first.status_code == 303, first.text
    candidate_id = first.headers["location"].removeprefix("/candidates/")
    _forget_the_account(web)

    again = _register(web, email=" Irina@Mail.example")

    assert again.status_code == 303, again.text
    assert again.headers["location"] == f"/candidates/{candidate_id}"
    account = accounts(web).by_email("irina@mail.example")
    assert account is not None and account.subject_id == candidate_id
    assert [c["id"] for c in _candidates(hiring)] == [candidate_id]


def test_a_registration_sent_again_with_another_name_says_so_next_to_the_email(
    web: TestClient, hiring: Hiring
) -> None:
    assert _register(web).status_code == 303
    _forget_the_account(web)

    other = _register(web, name="Irina Sidorova")

    assert other.status_code == 422, other.text
    assert "registered a moment ago with another name or subject" in other.text
    assert 'id="f-email-error"' in other.text
    assert accounts(web).by_email("irina@mail.example") is None
    assert len(_candidates(hiring)) == 1


def test_an_email_registered_through_the_api_is_refused_on_the_pages(
    web: TestClient, hiring: Hiring
) -> None:
    """Without that registration's key the pages cannot claim it: it holds a token."""
    api = hiring.http.post("/candidates", json={"name": "Irina", "email": "irina@mail.example"})
    assert api.status_code == 201, api.text

    refused = _register(web)

    assert refused.status_code == 422, refused.text
    assert "A candidate with this email is registered already." in refused.text
    assert accounts(web).by_email("irina@mail.example") is None


def test_sign_ups_from_one_address_are_limited_and_mistaken_forms_do_not_count(
    tmp_path: Path, hiring: Hiring
) -> None:
    def to_hiring(request: httpx.Request) -> httpx.Response:
        answer = hiring.http.post("/candidates", content=request.content, headers=request.headers)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    settings = WebSettings(
        database_url=f"sqlite:///{tmp_path / 'limited.db'}", registrations_per_address=2
    )
    app = create_app(settings, api_transport=httpx.MockTransport(to_hiring))
    with TestClient(app, follow_redirects=False, client=("203.0.113.7", 5000)) as web:
        mistaken = [_register(web, email="not an email") for _ in range(3)]
        taken = [_register(web, email=f"irina.{n}@mail.example") for n in range(2)]
        refused = _register(web, email="irina.3@mail.example")

    assert [r.status_code for r in mistaken] == [422, 422, 422]
    assert [r.status_code for r in taken] == [303, 303], [r.text for r in taken]
    assert refused.status_code == 429, refused.text
    assert "Too many registrations from your address just now. Try again in" in refused.text
    assert 3590 <= int(refused.headers["Retry-After"]) <= 3600
    assert len(_candidates(hiring)) == 2  # the refused one never reached hiring
