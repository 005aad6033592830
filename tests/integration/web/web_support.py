"""The web pages in-process over stand-ins for the services, and a person signed in to them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web.accounts.store import Accounts
from teacher_hiring.web.bootstrap import create_app
from teacher_hiring.web.settings import WebSettings

PASSWORD = "correct horse battery"
Services = Callable[[httpx.Request], httpx.Response]


@contextmanager
def pages(tmp_path: Path, services: Services, **client: Any) -> Iterator[TestClient]:
    """The web app on its own SQLite accounts, every call to a service answered by `services`."""
    settings = WebSettings(database_url=f"sqlite:///{tmp_path / 'web.db'}")
    app = create_app(settings, api_transport=httpx.MockTransport(services))
    with TestClient(app, follow_redirects=False, **client) as web:
        yield web


def accounts(web: TestClient) -> Accounts:
    found: Accounts = web.app.state.accounts  # type: ignore[attr-defined]
    return found


def csrf(web: TestClient, path: str = "/sign-in") -> str:
    page = web.get(path, follow_redirects=True)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_in(web: TestClient, email: str, password: str) -> httpx.Response:
    return web.post("/sign-in", data={"csrf": csrf(web), "email": email, "password": password})


def a_signed_in_candidate(web: TestClient) -> httpx.Response:
    """Ivan, candidate cand-1, signed in; the sign-in's answer."""
    accounts(web).create(
        email="ivan@mail.example",
        role=Role.candidate,
        subject_id="cand-1",
        name="Ivan",
        password=PASSWORD,
    )
    return sign_in(web, "ivan@mail.example", PASSWORD)


def confirmation_link(page: httpx.Response) -> str:
    """The path of the confirmation link a sign-up page shows in development."""
    found = re.search(r'id="confirmation-link" href="https?://[^/"]+(/confirm/[^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def confirm(web: TestClient, path: str) -> httpx.Response:
    """Follow a confirmation link and press its button."""
    return web.post(path, data={"csrf": csrf(web, path)})
