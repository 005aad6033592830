"""Managers and operators in a real browser, on one started platform.

An operator creates a manager, who sets a password on the first-visit link and writes an
exercise; eleven candidates solve it (through the API: faster); the manager sees the leak and
the assignment, complicates the exercise and finds the 30.00 payment in the account. Another
manager is refused the first one's exercise. An operator watches a dead letter appear on the
live page, replays it, and switches a link mode, and erases a candidate. axe checks every page
on the way.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from browser.browser_support import DESKTOP, PHONE, Site, axe, fits_width, sign_in, unique_email
from e2e.test_dead_letters import frozen_ledger, send_poison
from teacher_hiring.runtime.db import dispose, make_engine
from teacher_hiring.runtime.processes import WEB
from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web.accounts.store import Accounts

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "a-long-password"
ANSWER = "seven"


def add_account(site: Site, role: Role, subject_id: str, email: str, name: str) -> None:
    """A sign-in account written straight into the web pages' database, as
    `teacher-hiring operator create` writes the first operator's."""
    engine = make_engine(site.platform.deployment.database_url(WEB))
    try:
        Accounts(engine).create(
            email=email, role=role, subject_id=subject_id, name=name, password=PASSWORD
        )
    finally:
        dispose(engine)


@pytest.fixture(scope="module")
def operator_email(site: Site) -> str:
    email = unique_email("Olga Operator")
    add_account(site, Role.operator, email, email, "Olga Operator")
    return email


@pytest.fixture
def second_page(browser: Browser) -> Iterator[Page]:
    """Another person's browser (cookies of its own)."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def until(page: Page, check: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    """Reload the page until `check` holds (what the page shows comes from events)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not shown after {timeout_s}s: {what}"
        time.sleep(0.5)
        page.reload()


def test_a_manager_sees_the_leak_complicates_the_exercise_and_is_paid(
    site: Site, page: Page, second_page: Page, operator_email: str
) -> None:
    # An operator creates the manager and is shown the first-visit link once.
    sign_in(page, site, operator_email, PASSWORD)
    page.goto(site.page_url("/operator/managers/new"))
    axe(page, "the new manager form")
    manager_email = unique_email("Maria Leak")
    page.get_by_label("First name").fill("Maria")
    page.get_by_label("Last name").fill("Leak")
    page.get_by_label("Team").fill("mathematics")
    page.get_by_label("Email").fill(manager_email)
    page.get_by_role("button", name="Create the manager").click()
    link = page.locator("#first-visit-link").get_attribute("href")
    assert link and "/welcome/" in link
    axe(page, "the created manager's link")
    page.goto(site.page_url("/operator/managers"))
    expect(page.get_by_role("row", name=re.compile("Maria Leak"))).to_contain_text("not used")
    axe(page, "the managers list")
    page.get_by_role("link", name="Edit Maria Leak").click()
    expect(page.get_by_label("Team")).to_have_value("mathematics")
    axe(page, "a manager's edit form")

    # The manager chooses a password on the link and writes an exercise.
    manager = second_page
    manager.goto(link)
    manager.get_by_label("Password", exact=True).fill(PASSWORD)
    manager.get_by_label("The same password again").fill(PASSWORD)
    manager.get_by_role("button", name="Save and sign in").click()
    expect(manager.get_by_role("heading", name="My exercises")).to_be_visible()
    manager.get_by_role("link", name="New exercise").click()
    axe(manager, "the new exercise form")
    subject = f"leaks-{uuid.uuid4().hex[:8]}"
    manager.get_by_label("Title").fill("Lucky number")
    manager.get_by_label("Statement").fill("Which number is lucky?")
    manager.get_by_label("Accepted answers").fill(ANSWER)
    manager.get_by_label("Subject").fill(subject)
    manager.get_by_role("button", name="Create the exercise").click()
    expect(manager.get_by_role("status")).to_contain_text("“Lucky number” is created")
    exercise_id = manager.locator("tr[data-exercise]").first.get_attribute("data-exercise")
    assert exercise_id

    # Eleven candidates solve it.
    site.api.hiring_knows([exercise_id])
    for n in range(11):
        candidate = site.api.candidate(f"Solver {n} {uuid.uuid4().hex[:6]}", subject=subject)
        answered = site.api.submit(candidate["id"], exercise_id, 1, ANSWER)
        assert answered.status_code == 200 and answered.json()["correct"], answered.text

    # The manager sees the leak and the assignment, and complicates the exercise.
    manager.goto(site.page_url("/manager"))
    row = manager.locator(f'tr[data-exercise="{exercise_id}"]')
    until(manager, lambda: "Leaked" in row.inner_text(), "the leak")
    expect(row).to_contain_text("11")
    until(manager, lambda: manager.locator("#open-assignments").count() > 0, "the assignment")
    axe(manager, "the manager's exercises")
    # The same form open in another tab, to be saved after the complication.
    stale = manager.context.new_page()
    stale.goto(site.page_url(f"/manager/exercises/{exercise_id}"))
    manager.get_by_role("link", name="see which exercises leaked").click()
    axe(manager, "the assignments")
    manager.get_by_role("link", name=re.compile("Complicate")).click()
    expect(manager.get_by_text("Saving a harder version closes your assignment")).to_be_visible()
    axe(manager, "the edit form")
    manager.get_by_label("Statement").fill("Which number is lucky, written in letters backwards?")
    manager.get_by_label("Accepted answers").fill("neves")
    manager.get_by_role("button", name="Save as version 2").click()
    expect(manager.get_by_role("status")).to_contain_text("closed 1 complication assignment")

    # The other tab's save meets version 2: both versions shown, nothing typed lost.
    stale.get_by_label("Statement").fill("My own harder text")
    stale.get_by_role("button", name="Save as version 2").click()
    expect(stale.get_by_role("heading", name="Version 2, saved meanwhile")).to_be_visible()
    expect(stale.get_by_text("written in letters backwards")).to_be_visible()
    expect(stale.get_by_label("Statement")).to_have_value("My own harder text")
    axe(stale, "a version conflict")
    stale.get_by_label("Statement").fill("Which number is lucky, backwards, in capitals?")
    stale.get_by_role("button", name="Save as version 3").click()
    expect(stale.get_by_role("status")).to_contain_text("saved as version 3")
    stale.close()

    # The payment reaches the account.
    manager.goto(site.page_url("/manager/account"))
    entries = manager.locator("#entries")
    until(manager, lambda: "+30.00" in (entries.inner_text() if entries.count() else ""), "30.00")
    payment = manager.get_by_role("row", name=re.compile(r"\+30\.00"))
    expect(payment).to_contain_text("PaymentCommited")
    expect(manager.locator("svg.chart")).to_be_visible()
    expect(manager.locator("#balance")).to_contain_text(".")
    axe(manager, "the account")
    manager.get_by_label("First day").fill("2000-01-01")
    manager.get_by_label("Day after the last").fill("2100-01-01")
    manager.get_by_role("button", name="Show the statement").click()
    expect(manager.locator("#statement")).to_contain_text("30.00 (1)")
    manager.get_by_role("link", name="Candidates").click()
    expect(manager.locator("#candidates tbody tr")).not_to_have_count(0)
    axe(manager, "the candidates")


def test_another_managers_exercise_and_the_operators_pages_are_refused(
    site: Site, page: Page
) -> None:
    owner = site.api.manager(f"Owner {uuid.uuid4().hex[:6]}")
    exercise_id = site.api.exercise(owner, "x", "Not yours")
    other = site.api.manager(f"Other {uuid.uuid4().hex[:6]}")
    email = unique_email("Other Manager")
    add_account(site, Role.manager, other, email, "Other Manager")
    sign_in(page, site, email, PASSWORD)

    for path in (f"/manager/exercises/{exercise_id}", "/operator", "/operator/managers"):
        response = page.goto(site.page_url(path))
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", name="Not your page")).to_be_visible()
        assert "Statement of Not yours" not in page.content()
        assert "x</textarea>" not in page.content()
    axe(page, "the 403 page")

    page.set_viewport_size(PHONE)
    for path in ("/manager", "/manager/assignments", "/manager/account", "/manager/candidates"):
        page.goto(site.page_url(path))
        fits_width(page)


def test_an_operator_sees_a_dead_letter_replays_it_and_switches_a_link(
    site: Site, page: Page, operator_email: str
) -> None:
    author = site.api.manager(f"Dora Dead {uuid.uuid4().hex[:6]}")
    subject = f"letters-{uuid.uuid4().hex[:8]}"
    exercise_id = site.api.exercise(author, "ok", "Dead letter", subject=subject)
    site.api.hiring_knows([exercise_id])
    sign_in(page, site, operator_email, PASSWORD)
    page.goto(site.page_url("/operator"))
    expect(page.locator('[data-service="bonus"] [data-field="up"]')).to_have_text("Up")
    axe(page, "the live page")

    with frozen_ledger(site.platform):
        candidate = site.api.candidate(f"Frozen {uuid.uuid4().hex[:6]}", subject=subject)
        answered = site.api.submit(candidate["id"], exercise_id, 1, "ok")
        assert answered.status_code == 200, answered.text
        send_poison(site.platform)
        # The live page updates itself: no reload.
        money = page.locator('tr[data-topic="money"] [data-field="dead_letters"]')
        expect(money).to_have_text("2", timeout=60_000)

    page.get_by_role("link", name="Dead letters", exact=True).click()
    expect(page.locator("#dead-letters tbody tr")).to_have_count(2)
    axe(page, "the dead letters")
    page.get_by_role("row", name=re.compile("BonusAdded")).get_by_role("link").click()
    expect(page.get_by_text("ledger is frozen for maintenance").first).to_be_visible()
    axe(page, "a dead letter")
    page.get_by_role("button", name="Replay it (dry run first)").click()
    expect(page.locator("#decisions")).to_contain_text("would apply")
    axe(page, "the replay's dry run")
    page.get_by_role("button", name="Replay now").click()
    expect(page.locator("#replay-result")).to_contain_text("1 event published")
    deadline = time.monotonic() + 30
    while len(site.api.entries(author)) < 1:
        assert time.monotonic() < deadline, "the replayed bonus was not credited"
        time.sleep(0.2)

    page.goto(site.page_url("/operator/dead-letters?status=pending"))
    poison = page.get_by_role("row", name=re.compile("unreadable"))
    expect(poison).to_have_count(1)
    page.get_by_role("button", name="Purge money…").click()
    expect(page.get_by_text("This deletes, for good")).to_be_visible()
    axe(page, "the purge confirmation")
    page.get_by_label("Also drop pending dead letters").check()
    page.get_by_role("button", name="Yes, purge money").click()
    expect(page.get_by_role("status")).to_contain_text("purged")

    page.goto(site.page_url("/operator/switches"))
    axe(page, "links and event versions")
    forged = page.request.post(
        site.page_url("/operator/switches/link"),
        form={
            "service": "exercises",
            "link": "exercise-updates",
            "mode": "event",
            "confirm": "yes",
        },
    )
    assert forged.status == 403  # no CSRF token: refused, nothing switched
    link = page.locator('tr[data-link="exercise-updates"]')
    expect(link.locator('[data-field="mode"]')).to_have_text("push")
    link.get_by_role("button", name=re.compile("^event")).click()
    expect(page.get_by_text("from push to event")).to_be_visible()
    axe(page, "a switch's confirmation")
    page.get_by_role("button", name="Yes, switch exercise-updates to event").click()
    expect(page.locator("#switched")).to_contain_text("event")
    state = site.api.ok("GET", "exercises", "/operator/links/exercise-updates")
    assert state["mode"] == "event"
    page.goto(site.page_url("/operator/switches"))
    page.locator('tr[data-family="manager"]').get_by_role("button").first.click()
    expect(page.get_by_text("From the next command on")).to_contain_text("ManagerCreated")
    axe(page, "an event version switch's confirmation")
    page.get_by_role("link", name="Cancel").click()

    page.goto(site.page_url("/operator/reconciliation"))
    expect(page.get_by_role("heading", name="Result")).to_be_visible()
    axe(page, "reconciliation")


def test_an_operator_erases_a_candidate_after_confirming(
    site: Site, page: Page, operator_email: str
) -> None:
    author = site.api.manager(f"Erna Author {uuid.uuid4().hex[:6]}")
    subject = f"erasure-{uuid.uuid4().hex[:8]}"
    exercise_id = site.api.exercise(author, "ok", "Erase me", subject=subject)
    site.api.hiring_knows([exercise_id])
    name = f"Erin Erased {uuid.uuid4().hex[:6]}"
    candidate = site.api.candidate(name, subject=subject)
    sign_in(page, site, operator_email, PASSWORD)

    page.get_by_role("link", name="Erase a candidate").click()
    axe(page, "the erase form")
    page.get_by_label("Candidate id").fill(candidate["id"])
    page.get_by_role("button", name="Erase…").click()
    expect(page.get_by_text("This removes, for good")).to_contain_text(name)
    axe(page, "the erase confirmation")
    assert site.api.ok("GET", "hiring", f"/candidates/{candidate['id']}")["name"] == name
    page.get_by_role("button", name=f"Yes, erase {name}").click()

    expect(page.get_by_role("status")).to_contain_text("is erased")
    assert site.api.ok("GET", "hiring", f"/candidates/{candidate['id']}")["name"] == "(erased)"


def test_the_staff_pages_fit_a_phone(site: Site, page: Page, operator_email: str) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, site, operator_email, PASSWORD)
    staff = ("/operator", "/operator/managers", "/operator/dead-letters", "/operator/switches")
    for path in (*staff, "/operator/erase"):
        page.goto(site.page_url(path))
        fits_width(page)
