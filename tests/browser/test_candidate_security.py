"""The security tests of the issue that concern candidates, in a real browser: another
candidate's page is a 403 page, a form without its CSRF token is refused, a cookie copied
after sign-out opens nothing, and no page ever holds an accepted answer."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from browser.browser_support import DESKTOP, Site, axe, register, sign_in, sign_out

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SECRET_ANSWER = "kingfisher-" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def subject(site: Site) -> str:
    """A subject of its own with one exercise, whose accepted answer is SECRET_ANSWER."""
    subject = f"secrets-{uuid.uuid4().hex[:8]}"
    manager = site.api.manager(f"Sergei Keeper{uuid.uuid4().hex[:6]}")
    exercise = site.api.exercise(manager, SECRET_ANSWER, "Guarded", subject=subject)
    site.api.hiring_knows([exercise])
    return subject


def test_another_candidates_page_is_a_403_page(site: Site, page: Page, subject: str) -> None:
    first = register(page, site, "Anna First", subject=subject)
    sign_out(page)
    register(page, site, "Boris Second", subject=subject)
    for path in ("", "/history", "/exercises/anything"):
        response = page.goto(site.page_url(f"/candidates/{first['id']}{path}"))
        assert response is not None and response.status == 403
        expect(page.get_by_role("heading", name="Not your page")).to_be_visible()
        assert "Anna First" not in page.content()
    axe(page, "the 403 page")


def test_a_form_without_its_csrf_token_is_refused(site: Site, page: Page, subject: str) -> None:
    candidate = register(page, site, "Clara Forged", subject=subject)
    page.get_by_role("link", name="Guarded").click()
    action = page.locator("form[action*='/exercises/']").get_attribute("action")
    version = page.locator("input[name=version]").get_attribute("value")
    assert action and version
    for forged in ({}, {"csrf": "not-the-token"}):
        response = page.request.post(
            site.page_url(action), form={"answer": "x", "version": version, **forged}
        )
        assert response.status == 403, response.text()
        assert "Form refused" in response.text()
    # Nothing reached hiring: every attempt is left.
    page.goto(site.page_url(f"/candidates/{candidate['id']}"))
    expect(page.get_by_role("row", name=re.compile("Guarded"))).to_contain_text("5")
    refused = page.request.post(site.page_url("/sign-out"), form={})
    assert refused.status == 403
    page.reload()
    expect(page.get_by_role("heading", name="My exercises")).to_be_visible()  # still signed in


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(
    site: Site, browser: Browser, page: Page, subject: str
) -> None:
    candidate = register(page, site, "Dmitri Copied", subject=subject)
    sign_out(page)
    sign_in(page, site, candidate["email"], candidate["password"])
    expect(page.get_by_role("heading", name="My exercises")).to_be_visible()
    copied = page.context.cookies()
    session = next(c for c in copied if c["name"] == "th_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    sign_out(page)

    thief = browser.new_context(viewport=DESKTOP)
    try:
        thief.add_cookies(copied)  # type: ignore[arg-type]
        stolen = thief.new_page()
        stolen.goto(site.page_url(f"/candidates/{candidate['id']}"))
        assert re.search(r"/sign-in\?next=", stolen.url), stolen.url
        expect(stolen.get_by_role("heading", name="Sign in")).to_be_visible()
    finally:
        thief.close()


def test_no_candidate_page_ever_holds_an_accepted_answer(
    site: Site, page: Page, subject: str
) -> None:
    candidate = register(page, site, "Egor Curious", subject=subject)
    base = f"/candidates/{candidate['id']}"
    seen = []

    def look(path: str) -> None:
        page.goto(site.page_url(path))
        seen.append(page.content())

    look(base)
    page.get_by_role("link", name="Guarded").click()
    seen.append(page.content())
    exercise_path = page.url.removeprefix(site.url)
    page.get_by_label("Answer").fill("a guess")
    page.get_by_role("button", name="Send the answer").click()
    seen.append(page.content())
    page.get_by_label("Answer").fill(SECRET_ANSWER.upper())
    page.get_by_role("button", name="Send the answer").click()
    expect(page.get_by_role("status")).to_contain_text("Correct.")
    seen.append(page.content())
    for path in (base, exercise_path, f"{base}/history"):
        look(path)
    assert all(SECRET_ANSWER not in html.lower() for html in seen)
