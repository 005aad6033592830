"""The browser tests' rig: the platform (web pages and the three services) as processes, once
per test module, and Debian's chromium driven by Playwright (scripts/chromium.sh installs it).

A missing browser skips on a developer's machine and fails in CI (tests/missing_part.py).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from e2e.platform_api import Api
from missing_part import missing
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.runtime.db import dispose, make_engine
from teacher_hiring.runtime.processes import SERVICES, WEB, Deployment, Platform
from teacher_hiring.web.accounts.store import Accounts

CHROMIUM = os.environ.get("TH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
SERIOUS = ("serious", "critical")


def chromium_path() -> str:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        missing(f"no browser at {CHROMIUM}: run scripts/chromium.sh install (or set TH_CHROMIUM)")
    return CHROMIUM


@dataclass
class Site:
    """The running platform as the browser tests see it."""

    platform: Platform
    api: Api
    _accounts: Accounts | None = None

    @property
    def url(self) -> str:
        return self.platform.deployment.url(WEB)

    def page_url(self, path: str) -> str:
        return self.url + path

    def accounts(self) -> Accounts:
        """The web pages' accounts database, as `teacher-hiring operator create` opens it."""
        if self._accounts is None:
            self._accounts = Accounts(make_engine(self.platform.deployment.database_url(WEB)))
        return self._accounts


def start_platform(data_dir: Path, *, show_logs: bool = True) -> Iterator[Site]:
    """Starts the platform, yields it, stops it (and prints the tail of each log)."""
    deployment = Deployment(
        data_dir=data_dir,
        ports={WEB: free_port(), **{name: free_port() for name in SERVICES}},
        partitions=1,
    )
    platform = Platform(deployment)
    api = Api(platform)
    site = Site(platform, api)
    try:
        platform.start(timeout_s=90)
        yield site
    finally:
        api.client.close()
        if site._accounts is not None:
            dispose(site._accounts.engine)
        platform.stop()
        for label in platform.processes if show_logs else ():
            log = data_dir / "logs" / f"{label}.log"
            if log.exists():
                tail = log.read_text(errors="replace").splitlines()[-15:]
                print(f"--- {label} log (tail) ---", *tail, sep="\n")


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
    )


def browser_session() -> Iterator[Browser]:
    path = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield browser
        finally:
            browser.close()


def axe(page: Page, what: str = "") -> None:
    """axe-core in the page: no serious or critical accessibility violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node.get("target")) for node in v.get("nodes", [])[:5])
        for v in violations
    )
    assert not violations, f"accessibility violations on {what or page.url}:\n{report}"


def fits_width(page: Page) -> None:
    """Nothing wider than the window: no sideways scrolling of the whole page."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the {page.viewport_size} window"


def unique_email(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".")
    return f"{slug}.{uuid.uuid4().hex[:8]}@mail.example"


def register(
    page: Page, site: Site, name: str, subject: str = "", password: str = "a-long-password"
) -> dict[str, Any]:
    """Registers a candidate through the pages; returns their email, password and id."""
    email = unique_email(name)
    page.goto(site.page_url("/register"))
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email").fill(email)
    if subject:
        page.get_by_label("Subject you teach").fill(subject)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Register").click()
    # the platform runs in development: the confirmation link is shown instead of sent
    link = page.locator("#confirmation-link")
    link.wait_for()
    page.goto(str(link.get_attribute("href")))
    page.get_by_role("button", name="Confirm my email").click()
    page.wait_for_url(re.compile(r"/candidates/[^/]+$"))
    candidate_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    return {"email": email, "password": password, "id": candidate_id}


def sign_in(page: Page, site: Site, email: str, password: str) -> None:
    page.goto(site.page_url("/sign-in"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/sign-in$"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The platform, started once for the module's tests."""
    chromium_path()  # no browser: skip (or, in CI, fail) before starting anything
    yield from start_platform(tmp_path_factory.mktemp("platform") / "var")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from browser_session()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) at desktop width."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
