"""The web pages without a browser, the services answered by a stand-in: passwords, sessions,
CSRF, slowing down, registration, a candidate's lists empty and not, a manager's first-visit
link, `operator create`, the error pages of a service down or misconfigured, and what an answer
costs hiring."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from integration.web.web_support import (
    PASSWORD,
    a_signed_in_candidate,
    accounts,
    confirm,
    confirmation_link,
    csrf,
    pages,
    sign_in,
)
from teacher_hiring.cli.main import app as cli
from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web import format
from teacher_hiring.web.accounts.store import Accounts
from teacher_hiring.web.bootstrap import create_app
from teacher_hiring.web.settings import WebSettings

pytestmark = pytest.mark.integration

registered: list[dict[str, object]] = []


def hiring_stand_in(request: httpx.Request) -> httpx.Response:
    """hiring's POST /candidates; anything else is a 404."""
    if request.method == "POST" and request.url.path == "/candidates":
        body = json.loads(request.content)
        registered.append(body)
        candidate = {**body, "id": f"cand-{len(registered)}", "status": "candidate"}
        return httpx.Response(201, json={**candidate, "exercises": [], "access_token": "x"})
    return httpx.Response(404, json={"detail": "no", "error": "NotFound"})


@pytest.fixture
def web(tmp_path: Path) -> Iterator[TestClient]:
    with pages(tmp_path, hiring_stand_in) as client:
        yield client


def an_operator(web: TestClient, email: str = "ops@school.example") -> None:
    accounts(web).create(
        email=email, role=Role.operator, subject_id=email, name="Ops", password=PASSWORD
    )


def test_a_right_password_opens_a_session_whose_cookie_keeps_no_secret(web: TestClient) -> None:
    an_operator(web)
    done = sign_in(web, "OPS@school.example ", PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/operator"
    cookie = done.headers["set-cookie"]
    assert cookie.startswith("th_session=")
    for flag in ("HttpOnly", "Path=/", "SameSite=lax"):
        assert flag in cookie
    assert "Secure" not in cookie  # served over http here
    value = cookie.split(";")[0].removeprefix("th_session=")
    with accounts(web).engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT id_hash FROM sessions").scalar_one()
    assert value not in stored and len(stored) == 64


def test_the_cookie_is_secure_over_https(tmp_path: Path) -> None:
    settings = WebSettings(database_url=f"sqlite:///{tmp_path / 'web.db'}")
    with TestClient(create_app(settings), base_url="https://testserver") as web:
        an_operator(web)
        done = web.post(
            "/sign-in",
            data={"csrf": csrf(web), "email": "ops@school.example", "password": PASSWORD},
            follow_redirects=False,
        )
        assert "Secure" in done.headers["set-cookie"]


def test_a_wrong_password_is_a_plain_message_and_failures_slow_down(web: TestClient) -> None:
    an_operator(web)
    for _ in range(5):
        wrong = sign_in(web, "ops@school.example", "not the password")
        assert wrong.status_code == 422
        assert "Wrong email or password." in wrong.text
        assert 'aria-describedby="f-password-error"' in wrong.text
    refused = sign_in(web, "ops@school.example", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-ins. Try again in" in refused.text


def test_an_unknown_email_is_the_same_plain_message(web: TestClient) -> None:
    wrong = sign_in(web, "nobody@school.example", PASSWORD)
    assert wrong.status_code == 422 and "Wrong email or password." in wrong.text


def test_a_form_without_its_csrf_token_is_refused(web: TestClient) -> None:
    an_operator(web)
    csrf(web)  # the visitor cookie is set
    for forged in ({}, {"csrf": "forged"}):
        refused = web.post(
            "/sign-in", data={"email": "ops@school.example", "password": PASSWORD, **forged}
        )
        assert refused.status_code == 403 and "Form refused" in refused.text
    assert sign_in(web, "ops@school.example", PASSWORD).status_code == 303
    assert web.post("/sign-out", data={}).status_code == 403


def test_sign_out_revokes_the_session_for_every_copy_of_its_cookie(web: TestClient) -> None:
    an_operator(web)
    cookie = sign_in(web, "ops@school.example", PASSWORD).cookies["th_session"]
    token = csrf(web, "/register")  # a signed-in page's form carries the session's token
    assert web.post("/sign-out", data={"csrf": token}).status_code == 303
    web.cookies.set("th_session", cookie)
    again = web.get("/candidate")
    assert again.status_code == 303 and again.headers["location"].startswith("/sign-in?next=")


def test_registration_creates_the_candidate_in_hiring_and_one_account_per_email(
    web: TestClient,
) -> None:
    form = {
        "name": "Irina Petrova",
        "email": "Irina@Mail.example",
        "subject": "Mathematics",
        "password": PASSWORD,
    }
    signed_up = web.post("/register", data={"csrf": csrf(web, "/register"), **form})
    assert signed_up.status_code == 200 and "We sent a link to" in signed_up.text
    pending = accounts(web).by_email("irina@mail.example")
    assert pending is not None and accounts(web).is_pending(pending.id)
    assert confirmation_link(signed_up)
    not_yet = sign_in(web, "irina@mail.example", PASSWORD)
    assert not_yet.status_code == 403  # not confirmed yet: a new link is sent
    done = confirm(web, confirmation_link(not_yet))
    assert done.status_code == 303 and re.fullmatch(
        r"/candidates/cand-\d+", done.headers["location"]
    )
    assert registered[-1] == {
        "name": "Irina Petrova",
        "email": "irina@mail.example",
        "subject": "mathematics",
    }
    account = accounts(web).by_email("irina@mail.example")
    assert account is not None and account.role is Role.candidate
    assert not accounts(web).is_pending(account.id)
    assert account.subject_id == done.headers["location"].rsplit("/", 1)[-1]
    web.cookies.clear()
    again = web.post("/register", data={"csrf": csrf(web, "/register"), **form})
    assert again.status_code == 422
    assert "This email already has an account" in again.text
    assert 'id="f-email-error"' in again.text


def test_registration_errors_stand_next_to_their_fields(web: TestClient) -> None:
    form = {"name": "", "email": "not-an-email", "subject": "Bad Subject!", "password": "short"}
    refused = web.post("/register", data={"csrf": csrf(web, "/register"), **form})
    assert refused.status_code == 422
    for field in ("name", "email", "subject", "password"):
        assert f'id="f-{field}-error"' in refused.text
        assert f'aria-describedby="f-{field}' in refused.text


def test_a_managers_first_visit_link_sets_the_password_once(web: TestClient) -> None:
    _, token = accounts(web).invite(
        email="maria@school.example",
        role=Role.manager,
        subject_id="manager-1",
        name="Maria",
        ttl_s=3600,
    )
    assert sign_in(web, "maria@school.example", "").status_code == 422  # no password yet
    form = web.get(f"/welcome/{token}")
    assert form.status_code == 200 and "Welcome, Maria" in form.text
    token_field = csrf(web, f"/welcome/{token}")
    differ = web.post(
        f"/welcome/{token}",
        data={"csrf": token_field, "password": PASSWORD, "password_again": "other password"},
    )
    assert differ.status_code == 422 and "The two passwords differ." in differ.text
    done = web.post(
        f"/welcome/{token}",
        data={"csrf": token_field, "password": PASSWORD, "password_again": PASSWORD},
    )
    assert done.status_code == 303 and done.headers["location"] == "/manager"
    web.cookies.clear()
    assert web.get(f"/welcome/{token}").status_code == 404
    assert sign_in(web, "maria@school.example", PASSWORD).status_code == 303


def test_operator_create_needs_no_signing_secret_only_the_accounts_database(
    tmp_path: Path,
) -> None:
    """As in the README's tour: a second terminal, nothing set but the database."""
    url = f"sqlite:///{tmp_path / 'web.db'}"
    no_secret = {"TEACHER_HIRING_AUTH_SECRET": None, "WEB_AUTH_SECRET": None}
    created = CliRunner().invoke(
        cli,
        ["operator", "create", "--email", "ops@school.example", "--password-stdin"],
        input=f"{PASSWORD}\n",
        env={**no_secret, "WEB_DATABASE_URL": url},
    )
    assert created.exit_code == 0, created.output


def test_operator_create_asks_the_password_twice_or_reads_it_from_stdin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    runner = CliRunner()
    asked = runner.invoke(
        cli,
        ["operator", "create", "--email", "Ops@School.example", "--database-url", url],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert asked.exit_code == 0, asked.output
    piped = runner.invoke(
        cli,
        ["operator", "create", "--email", "two@school.example", "--password-stdin"],
        input=f"{PASSWORD}\n",
        env={"WEB_DATABASE_URL": url},
    )
    assert piped.exit_code == 0, piped.output
    twice = runner.invoke(
        cli,
        ["operator", "create", "--email", "ops@school.example", "--password-stdin"],
        input=f"{PASSWORD}\n",
        env={"WEB_DATABASE_URL": url},
    )
    assert twice.exit_code == 1 and "already has an account" in twice.output
    short = runner.invoke(
        cli,
        ["operator", "create", "--email", "x@school.example", "--password-stdin"],
        input="short\n",
        env={"WEB_DATABASE_URL": url},
    )
    assert short.exit_code == 2


def test_money_is_written_as_units_and_cents() -> None:
    assert [format.money(c) for c in (0, 5, 1234, -500, 3000)] == [
        "0.00",
        "0.05",
        "12.34",
        "-5.00",
        "30.00",
    ]
    assert 'datetime="2026-12-06T22:54:00Z"' in format.time_tag("2026-12-06T22:54:00.000000Z")


def test_a_service_that_does_not_answer_is_a_503_page_naming_it(tmp_path: Path) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pages(tmp_path, down) as web:
        assert a_signed_in_candidate(web).headers["location"] == "/candidate"
        page = web.get("/candidates/cand-1")
        assert page.status_code == 503
        assert "The hiring service is not reachable" in page.text
        assert web.get("/candidates/cand-2").status_code == 403  # not theirs, before any call


def test_a_first_visit_link_is_an_absolute_address_of_this_site(web: TestClient) -> None:
    from starlette.requests import Request

    from teacher_hiring.web.pages.sign_in import first_visit_link

    scope = {"type": "http", "app": web.app, "router": web.app.router, "headers": []}
    scope |= {"scheme": "http", "server": ("127.0.0.1", 8700), "path": "/", "root_path": ""}
    assert first_visit_link(Request(scope), "abc") == "http://127.0.0.1:8700/welcome/abc"


def test_a_service_refusing_the_pages_tokens_is_a_page_naming_the_setting(tmp_path: Path) -> None:
    def unauthorized(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"detail": "token: bad signature", "error": "Invalid"})

    with pages(tmp_path, unauthorized) as web:
        a_signed_in_candidate(web)
        page = web.get("/candidates/cand-1")
        assert page.status_code == 502 and "WEB_AUTH_SECRET" in page.text


@pytest.mark.parametrize(("address", "counted"), [("203.0.113.5", True), ("127.0.0.1", False)])
def test_failures_from_one_address_slow_it_down_unless_it_is_the_machines_own(
    tmp_path: Path, address: str, counted: bool
) -> None:
    settings = WebSettings(database_url=f"sqlite:///{tmp_path / 'web.db'}")
    with TestClient(create_app(settings), follow_redirects=False, client=(address, 5000)) as web:
        an_operator(web)
        for n in range(5):
            assert sign_in(web, f"guess{n}@school.example", "nope").status_code == 422
        right = sign_in(web, "ops@school.example", PASSWORD)
        assert right.status_code == (429 if counted else 303)


def test_ended_sessions_and_old_failures_are_forgotten_after_a_day(tmp_path: Path) -> None:
    from teacher_hiring.foundation.time import ShiftedClock
    from teacher_hiring.runtime.db import dispose, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'web.db'}")
    clock = ShiftedClock(-3 * 24 * 3600)
    store = Accounts(engine, clock)
    store.create_tables()
    account = store.create(email="a@school.example", role=Role.candidate, subject_id="c", name="A")
    expired = store.open_session(account.id, ttl_s=60)
    revoked = store.open_session(account.id, ttl_s=10 * 24 * 3600)
    store.revoke(revoked)
    store.record_failure(["email:a@school.example"])
    clock.offset_s = 0
    live = store.open_session(account.id, ttl_s=60)
    store.record_failure(["email:b@school.example"])
    with engine.connect() as conn:
        kept = conn.exec_driver_sql("SELECT count(*) FROM sessions").scalar_one()
        failures = conn.exec_driver_sql("SELECT key FROM sign_in_failures").scalars().all()
    assert kept == 1 and store.session(live) is not None and store.session(expired) is None
    assert failures == ["email:b@school.example"]
    dispose(engine)


def test_an_answer_costs_one_call_to_hiring_once_the_exercise_was_shown(tmp_path: Path) -> None:
    calls: list[str] = []
    exercise = {
        "exercise_id": "ex-1",
        "title": "Sum",
        "statement": "2+3?",
        "subject": "mathematics",
        "difficulty": 1,
        "version": 1,
        "solved": False,
        "attempts_left": 5,
    }

    def hiring(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("/exercises"):
            return httpx.Response(200, json=[exercise])
        verdict = {
            "submission_id": "s-1",
            "exercise_id": "ex-1",
            "exercise_version": 1,
            "correct": False,
            "attempt": 1,
            "attempts_left": 4,
            "solved": False,
            "candidate_status": "candidate",
            "replayed": False,
        }
        return httpx.Response(200, json=verdict)

    with pages(tmp_path, hiring) as web:
        a_signed_in_candidate(web)
        token = csrf(web, "/candidates/cand-1/exercises/ex-1")
        calls.clear()
        form = {"csrf": token, "answer": "4", "version": "1", "idempotency_key": "k-1"}
        page = web.post("/candidates/cand-1/exercises/ex-1", data=form)
        assert page.status_code == 200
        assert "Not correct." in page.text and "4 attempts left" in page.text
        assert "2+3?" in page.text
        assert calls == ["POST /candidates/cand-1/submissions"]


def a_candidate_stand_in(
    exercises: list[dict[str, object]], submissions: list[dict[str, object]]
) -> Callable[[httpx.Request], httpx.Response]:
    """hiring's reads of candidate cand-1: the candidate, their exercises, their submissions."""
    candidate = {
        "id": "cand-1",
        "name": "Ivan",
        "email": "ivan@mail.example",
        "subject": None,
        "status": "candidate",
        "created_at": "2026-01-05T09:00:00Z",
        "updated_at": "2026-01-05T09:00:00Z",
        "exercises": [],
    }
    answers = {
        "/candidates/cand-1": candidate,
        "/candidates/cand-1/exercises": exercises,
        "/candidates/cand-1/submissions": {"candidate_id": "cand-1", "items": submissions},
    }

    def hiring(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path in answers:
            return httpx.Response(200, json=answers[request.url.path])
        return httpx.Response(404, json={"detail": "no", "error": "NotFound"})

    return hiring


def test_a_candidate_with_nothing_yet_is_told_so_instead_of_an_empty_table(
    tmp_path: Path,
) -> None:
    with pages(tmp_path, a_candidate_stand_in([], [])) as web:
        a_signed_in_candidate(web)
        mine = web.get("/candidates/cand-1")
        history = web.get("/candidates/cand-1/history")
    assert mine.status_code == 200 and history.status_code == 200
    assert "<p>No exercise is assigned to you yet.</p>" in mine.text
    assert "<p>You have not sent an answer yet.</p>" in history.text
    assert "<table" not in mine.text and "<table" not in history.text


def test_a_candidate_with_exercises_and_answers_sees_them_in_tables(tmp_path: Path) -> None:
    exercise = {
        "exercise_id": "ex-1",
        "title": "Fractions",
        "statement": "1/2 + 1/4?",
        "subject": "math",
        "difficulty": 1,
        "version": 2,
        "solved": False,
        "attempts_left": 4,
    }
    answer = {
        "submission_id": "sub-1",
        "exercise_id": "ex-1",
        "exercise_version": 2,
        "correct": False,
        "attempt": 1,
        "submitted_at": "2026-01-05T09:30:00Z",
    }
    with pages(tmp_path, a_candidate_stand_in([exercise], [answer])) as web:
        a_signed_in_candidate(web)
        mine = web.get("/candidates/cand-1")
        history = web.get("/candidates/cand-1/history")
    assert "<table" in mine.text and "Fractions" in mine.text
    assert "No exercise is assigned" not in mine.text
    assert "<table" in history.text and "Not correct" in history.text
    assert "You have not sent an answer" not in history.text
