"""A candidate in a real browser: registers, answers wrong then right, sees the verdict at once,
meets a changed exercise, reads their history; every page accessible and usable at 375px."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from browser.browser_support import PHONE, Site, axe, fits_width, register
from integration.credentials import as_manager
from teacher_hiring.runtime.tokens import Role

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ANSWER = "forty-two exactly"


def an_exercise(site: Site, subject: str, title: str = "The answer") -> tuple[str, str]:
    """A manager and one exercise of `subject` (a subject of its own: the candidate registering
    with it is assigned this exercise alone); hiring knows it when this returns."""
    manager = site.api.manager(f"Maria Author{uuid.uuid4().hex[:6]}")
    exercise = site.api.exercise(manager, ANSWER, title, subject=subject)
    site.api.hiring_knows([exercise])
    return manager, exercise


def new_subject() -> str:
    return f"physics-{uuid.uuid4().hex[:8]}"


def test_a_candidate_registers_answers_wrong_then_right_and_becomes_a_teacher(
    site: Site, page: Page
) -> None:
    subject = new_subject()
    _, exercise_id = an_exercise(site, subject)
    candidate = register(page, site, "Irina Candidate", subject=subject)

    expect(page.get_by_role("heading", name="My exercises")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("The answer"))
    expect(row).to_contain_text("To solve")
    expect(row).to_contain_text("5")  # attempts left
    axe(page, "the candidate's exercises")

    page.get_by_role("link", name="The answer").click()
    expect(page.get_by_role("heading", name="The answer")).to_be_visible()
    expect(page.get_by_text("Statement of The answer")).to_be_visible()
    axe(page, "an exercise")

    page.get_by_label("Answer").fill("forty-one")
    page.get_by_role("button", name="Send the answer").click()
    verdict = page.get_by_role("status")
    expect(verdict).to_contain_text("Not correct")
    expect(verdict).to_contain_text("4 attempts left")
    expect(page.get_by_label("Answer")).to_have_value("forty-one")
    axe(page, "a wrong answer's verdict")

    page.get_by_label("Answer").fill("  Forty-Two   EXACTLY ")  # normalized check mode
    page.get_by_role("button", name="Send the answer").click()
    expect(verdict).to_contain_text("Correct.")
    expect(verdict).to_contain_text("you are now a teacher")
    assert ANSWER not in page.content().lower()
    axe(page, "a right answer's verdict")

    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="My history")).to_be_visible()
    expect(page.get_by_text("You became a teacher on")).to_be_visible()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Correct")
    expect(rows.nth(1)).to_contain_text("Not correct")
    axe(page, "the candidate's history")
    assert page.url.endswith(f"/candidates/{candidate['id']}/history")
    assert exercise_id in page.content()


def test_a_changed_exercise_shows_its_new_statement_and_asks_again(site: Site, page: Page) -> None:
    subject = new_subject()
    manager, exercise_id = an_exercise(site, subject, title="Moving target")
    register(page, site, "Pavel Late", subject=subject)
    page.get_by_role("link", name="Moving target").click()
    expect(page.get_by_text("Statement of Moving target")).to_be_visible()

    edit = {"editor_id": manager, "statement": "Harder: what is six times seven, in words?"}
    site.api.ok(
        "PUT", "exercises", f"/exercises/{exercise_id}", json=edit, headers=as_manager(manager)
    )
    site.api.hiring_knows([exercise_id], version=2)

    page.get_by_label("Answer").fill(ANSWER)
    page.get_by_role("button", name="Send the answer").click()
    expect(page.get_by_role("status")).to_contain_text("it is now version 2")
    expect(page.get_by_text("Harder: what is six times seven")).to_be_visible()
    expect(page.get_by_label("Answer")).to_have_value(ANSWER)  # what they typed is kept
    axe(page, "a changed exercise")

    page.get_by_role("button", name="Send the answer").click()
    expect(page.get_by_role("status")).to_contain_text("Correct.")


def test_the_pages_are_usable_at_phone_width(site: Site, page: Page) -> None:
    subject = new_subject()
    an_exercise(site, subject, title="Small screens")
    page.set_viewport_size(PHONE)
    for path in ("/", "/sign-in", "/register"):
        page.goto(site.page_url(path))
        fits_width(page)
    candidate = register(page, site, "Nina Phone", subject=subject)
    fits_width(page)
    page.get_by_role("link", name="Small screens").click()
    fits_width(page)
    page.get_by_label("Answer").fill("wrong")
    page.get_by_role("button", name="Send the answer").click()
    expect(page.get_by_role("status")).to_contain_text("Not correct")
    fits_width(page)
    page.goto(site.page_url(f"/candidates/{candidate['id']}/history"))
    fits_width(page)
    axe(page, "the history at phone width")


def test_the_public_pages_are_accessible(site: Site, page: Page) -> None:
    for path in ("/", "/sign-in", "/register"):
        page.goto(site.page_url(path))
        axe(page, path)
    page.goto(site.page_url("/register"))
    page.get_by_role("button", name="Register").click()  # every field missing
    expect(page.get_by_text("Your name, please.")).to_be_visible()
    name = page.get_by_label("Full name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_attribute("aria-describedby", "f-name-error")
    axe(page, "the registration form with its errors")
    page.goto(site.page_url("/no/such/page"))
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    axe(page, "the 404 page")


def test_the_sign_in_and_first_visit_pages_are_accessible(site: Site, page: Page) -> None:
    page.goto(site.page_url("/sign-in"))
    page.get_by_label("Email").fill("nobody@mail.example")
    page.get_by_label("Password").fill("not a password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong email or password.")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    axe(page, "the sign-in form with its error")

    _, token = site.accounts().invite(
        email=f"new.manager.{uuid.uuid4().hex[:6]}@school.example",
        role=Role.manager,
        subject_id=str(uuid.uuid4()),
        name="Vera Newcomer",
        ttl_s=600,
    )
    page.goto(site.page_url(f"/welcome/{token}"))
    expect(page.get_by_role("heading", name="Welcome, Vera Newcomer")).to_be_visible()
    axe(page, "a manager's first visit")
    page.get_by_label("Password", exact=True).fill("a-long-password")
    page.get_by_label("The same password again").fill("a-long-password")
    page.get_by_role("button", name="Save and sign in").click()
    page.wait_for_url(re.compile(r"/manager$"))
    page.goto(site.page_url(f"/welcome/{token}"))
    expect(page.get_by_text("This link was used already or has expired.")).to_be_visible()


def tab_to(page: Page, what: str, presses: int = 15) -> None:
    """Press Tab until the focused element has the id `#...`, or else the text `what`."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate("[document.activeElement.id, document.activeElement.innerText]")
        if what in ("#" + focused[0], (focused[1] or "").strip()):
            return
    raise AssertionError(f"Tab never reached {what} on {page.url}")


def test_a_candidate_does_everything_with_the_keyboard_alone(site: Site, page: Page) -> None:
    subject = new_subject()
    an_exercise(site, subject, title="Keys only")
    page.goto(site.page_url("/register"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    tab_to(page, "#f-name")
    page.keyboard.type("Lev Keyboard")
    page.keyboard.press("Tab")
    page.keyboard.type(f"lev.{uuid.uuid4().hex[:8]}@mail.example")
    page.keyboard.press("Tab")
    page.keyboard.type(subject)
    page.keyboard.press("Tab")
    page.keyboard.type("a-long-password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Confirm your email")).to_be_visible()
    axe(page, "the page saying the confirmation link was sent")
    tab_to(page, "#confirmation-link")  # shown in development instead of sent
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Confirm my email")).to_be_visible()
    axe(page, "the confirmation page")
    tab_to(page, "Confirm my email")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/candidates/[^/]+$"))

    tab_to(page, "Keys only")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Keys only")).to_be_visible()
    tab_to(page, "#f-answer")
    page.keyboard.type(ANSWER)
    tab_to(page, "Send the answer")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Correct.")
