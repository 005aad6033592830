"""Signing up on the pages against the real hiring service (in process, SQLite): the account
is usable only once the link sent to the email is followed, one account per email, a
confirmation sent again after its answer was lost opens the candidate hiring made, the limits
on sign-ups, and how the link is sent (the log and the page in development, SMTP otherwise)."""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import structlog.testing
from fastapi.testclient import TestClient

from integration.credentials import OPERATOR
from integration.hiring.hiring_support import Hiring, make_settings
from integration.web.web_support import PASSWORD, accounts, confirm, confirmation_link, csrf
from teacher_hiring.hiring.bootstrap import bootstrap
from teacher_hiring.web.accounts.store import Accounts, digest
from teacher_hiring.web.accounts.tables import email_confirmations, sessions
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


def _pages(
    tmp_path: Path, hiring: Hiring, address: str = "testclient", **settings: Any
) -> TestClient:
    def to_hiring(request: httpx.Request) -> httpx.Response:
        answer = hiring.http.request(
            request.method,
            request.url.path,
            content=request.content,
            headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    web_settings = WebSettings(database_url=f"sqlite:///{tmp_path / 'web.db'}", **settings)
    app = create_app(web_settings, api_transport=httpx.MockTransport(to_hiring))
    return TestClient(app, follow_redirects=False, client=(address, 5000))


@pytest.fixture
def web(tmp_path: Path, hiring: Hiring) -> Iterator[TestClient]:
    with _pages(tmp_path, hiring) as client:
        yield client


def _sign_up(web: TestClient, **changes: str) -> httpx.Response:
    web.cookies.clear()
    return web.post("/register", data={"csrf": csrf(web, "/register"), **FORM, **changes})


def _candidates(hiring: Hiring) -> list[dict[str, object]]:
    items: list[dict[str, object]] = hiring.http.get("/candidates").json()["items"]
    return items


def test_an_account_is_usable_only_once_its_email_is_confirmed(
    web: TestClient, hiring: Hiring
) -> None:
    signed_up = _sign_up(web)
    assert signed_up.status_code == 200, signed_up.text
    assert "We sent a link to <strong>irina@mail.example</strong>" in signed_up.text
    assert "th_session" not in signed_up.headers.get("set-cookie", "")
    assert _candidates(hiring) == []  # nobody in hiring before the email is confirmed

    web.cookies.clear()
    refused = web.post(
        "/sign-in",
        data={"csrf": csrf(web), "email": FORM["email"], "password": PASSWORD},
    )
    assert refused.status_code == 403 and "not confirmed yet" in refused.text
    newer = confirmation_link(refused)  # signing in sends a new link; the first stops working
    assert web.get(confirmation_link(signed_up)).status_code == 404

    page = web.get(newer)
    assert page.status_code == 200 and "Confirm my email" in page.text
    assert _candidates(hiring) == []  # a mail scanner fetching the link confirms nothing
    done = confirm(web, newer)

    assert done.status_code == 303, done.text
    candidate_id = done.headers["location"].removeprefix("/candidates/")
    assert [c["id"] for c in _candidates(hiring)] == [candidate_id]
    assert web.get(done.headers["location"]).status_code == 200  # signed in
    account = accounts(web).by_email(FORM["email"])
    assert account is not None and account.subject_id == candidate_id
    assert web.get(newer).status_code == 404  # spent
    web.cookies.clear()
    assert _sign_up(web).status_code == 422  # one account per email


def test_an_unconfirmed_sign_up_cannot_keep_the_emails_owner_out(
    web: TestClient, hiring: Hiring
) -> None:
    """Someone signs up with another's email: the owner signs up again, and only the newest
    link, sent to the owner's mailbox, opens the account, with the owner's password."""
    squatter = _sign_up(web, name="Not Irina", password="squatters-password")
    owner = _sign_up(web)
    assert owner.status_code == 200, owner.text

    assert web.get(confirmation_link(squatter)).status_code == 404
    done = confirm(web, confirmation_link(owner))
    assert done.status_code == 303, done.text
    names = [c["name"] for c in _candidates(hiring)]
    assert names == ["Irina Petrova"]
    web.cookies.clear()
    wrong = web.post(
        "/sign-in",
        data={"csrf": csrf(web), "email": FORM["email"], "password": "squatters-password"},
    )
    assert wrong.status_code == 422


def test_a_confirmation_sent_again_after_a_lost_answer_opens_the_candidate_hiring_made(
    web: TestClient, hiring: Hiring
) -> None:
    link = confirmation_link(_sign_up(web))
    token = csrf(web, link)
    first = web.post(link, data={"csrf": token})
    assert first.status_code == 303
    candidate_id = first.headers["location"].removeprefix("/candidates/")
    # as if the page had stopped after hiring's answer, before it opened the account
    with accounts(web).engine.begin() as conn:
        conn.execute(sessions.delete())
    account = accounts(web).by_email(FORM["email"])
    assert account is not None
    with accounts(web).engine.begin() as conn:
        conn.execute(
            email_confirmations.insert().values(
                account_id=account.id,
                token_hash=digest(link.rsplit("/", 1)[-1]),
                teaches=None,
                expires_at=4e9,
                created_at=1.0,
            )
        )

    again = web.post(link, data={"csrf": token})

    assert again.status_code == 303, again.text
    assert again.headers["location"] == f"/candidates/{candidate_id}"
    assert [c["id"] for c in _candidates(hiring)] == [candidate_id]


def test_an_email_registered_through_the_api_is_refused_on_confirmation(
    web: TestClient, hiring: Hiring
) -> None:
    """Without that registration's key the pages cannot claim it: it holds a token."""
    api = hiring.http.post("/candidates", json={"name": "Irina", "email": FORM["email"]})
    assert api.status_code == 201, api.text

    refused = confirm(web, confirmation_link(_sign_up(web)))

    assert refused.status_code == 422, refused.text
    assert "A candidate with this email is registered already." in refused.text
    assert len(_candidates(hiring)) == 1


def test_sign_ups_from_one_address_are_limited_and_mistaken_forms_do_not_count(
    tmp_path: Path, hiring: Hiring
) -> None:
    with _pages(tmp_path, hiring, "203.0.113.7", registrations_per_address=2) as web:
        mistaken = [_sign_up(web, email="not an email") for _ in range(3)]
        taken = [_sign_up(web, email=f"irina.{n}@mail.example") for n in range(2)]
        refused = _sign_up(web, email="irina.3@mail.example")

        assert [r.status_code for r in mistaken] == [422, 422, 422]
        assert [r.status_code for r in taken] == [200, 200], [r.text for r in taken]
        assert refused.status_code == 429, refused.text
        assert "Too many registrations from your address just now. Try again in" in refused.text
        assert 3590 <= int(refused.headers["Retry-After"]) <= 3600
        assert accounts(web).by_email("irina.3@mail.example") is None


def test_in_development_the_link_is_written_to_the_log(web: TestClient) -> None:
    with structlog.testing.capture_logs() as logged:
        link = confirmation_link(_sign_up(web))
    (line,) = [entry for entry in logged if "confirmation link" in entry["event"]]
    assert line["link"].endswith(link) and line["log_level"] == "warning"
    assert FORM["email"] not in str(logged)


def test_in_production_without_a_mail_relay_sign_ups_are_closed(
    tmp_path: Path, hiring: Hiring
) -> None:
    settings = {"environment": "production", "auth_secret": "s" * 48}
    with _pages(tmp_path, hiring, **settings) as web:
        closed = _sign_up(web)
        assert closed.status_code == 422
        assert "Registration is closed: this platform cannot send e-mail yet." in closed.text
        assert accounts(web).by_email(FORM["email"]) is None


class _Relay(socketserver.StreamRequestHandler):
    """A mail relay that keeps what it is given (just enough SMTP for smtplib)."""

    received: ClassVar[list[str]] = []

    def handle(self) -> None:
        self.wfile.write(b"220 relay\r\n")
        while line := self.rfile.readline():
            command = line.decode().strip().upper()
            if command.startswith("DATA"):
                self.wfile.write(b"354 go on\r\n")
                body = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(data.decode())
                self.received.append("".join(body))
                self.wfile.write(b"250 kept\r\n")
            elif command.startswith("QUIT"):
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_with_a_mail_relay_the_link_is_sent_and_not_shown(tmp_path: Path, hiring: Hiring) -> None:
    _Relay.received = []
    with socketserver.TCPServer(("127.0.0.1", 0), _Relay) as relay:
        threading.Thread(target=relay.serve_forever, daemon=True).start()
        settings = {
            "environment": "production",
            "auth_secret": "s" * 48,
            "smtp_host": "127.0.0.1",
            "smtp_port": relay.server_address[1],
        }
        try:
            with (
                _pages(tmp_path, hiring, **settings) as web,
                structlog.testing.capture_logs() as logged,
            ):
                signed_up = _sign_up(web)
        finally:
            relay.shutdown()

    assert signed_up.status_code == 200, signed_up.text
    assert 'id="confirmation-link"' not in signed_up.text
    (mail,) = _Relay.received
    assert "To: irina@mail.example" in mail
    path = mail.split("http://testserver", 1)[1].split()[0]
    assert path.startswith("/confirm/") and path not in str(logged)


def test_a_sign_up_never_confirmed_is_forgotten_a_day_after_its_link_expired(
    web: TestClient,
) -> None:
    assert _sign_up(web).status_code == 200
    store = accounts(web)
    later = Accounts(store.engine, clock=lambda: time.time() + 2 * 24 * 3600 + 23 * 3600)
    much_later = Accounts(store.engine, clock=lambda: time.time() + 4 * 24 * 3600)

    day = 24 * 3600.0
    later.sign_up(email="olga@mail.example", name="O", teaches=None, password=PASSWORD, ttl_s=day)
    assert store.by_email(FORM["email"]) is not None  # expired, but not a day ago yet
    much_later.sign_up(
        email="pavel@mail.example", name="P", teaches=None, password=PASSWORD, ttl_s=60
    )

    assert store.by_email(FORM["email"]) is None
    assert store.by_email("olga@mail.example") is not None


def test_a_relay_that_does_not_answer_is_a_page_saying_so(tmp_path: Path, hiring: Hiring) -> None:
    with socketserver.TCPServer(("127.0.0.1", 0), _Relay) as taken:
        port = taken.server_address[1]  # closed again: nothing listens there
    settings = {"smtp_host": "127.0.0.1", "smtp_port": port}
    with _pages(tmp_path, hiring, **settings) as web:
        failed = _sign_up(web)
        assert failed.status_code == 503, failed.text
        assert "could not be sent just now" in failed.text
        assert 'id="confirmation-link"' not in failed.text
