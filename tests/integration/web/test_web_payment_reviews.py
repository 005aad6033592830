"""The operators' page of complication payments held for review, over the real exercises
service (SQLite): it lists the pending ones with their evidence, asks before approving or
rejecting, and the decision is exercises' own (paid once, or never). The pages forward the
person's address to the services, which take it only with its proof."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from integration.credentials import OPERATOR
from integration.exercises.exercises_support import Service
from integration.exercises.payment_reviews_support import held, paid
from teacher_hiring.exercises.adapters import tables
from teacher_hiring.exercises.bootstrap import bootstrap
from teacher_hiring.exercises.settings import ExercisesSettings
from teacher_hiring.runtime.origins import Origins
from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web.accounts.store import Accounts
from teacher_hiring.web.bootstrap import create_app
from teacher_hiring.web.settings import WebSettings

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
BROWSER = ("203.0.113.50", 50000)


@pytest.fixture
def exercises(tmp_path: Path) -> Iterator[Service]:
    settings = ExercisesSettings(
        database_url=f"sqlite:///{tmp_path}/exercises.db",
        event_log_url=f"sqlite:///{tmp_path}/events.db",
        run_workers=False,
        exercise_updates_link="event",
        log_format="console",
    )
    with TestClient(bootstrap(settings), headers=OPERATOR) as client:
        service = Service(client)
        yield service
        service.close()


@pytest.fixture
def web(tmp_path: Path, exercises: Service) -> Iterator[TestClient]:
    """The pages, their calls to exercises answered by the real service (hiring and bonus are
    not started); a browser at BROWSER's address."""

    def to_exercises(request: httpx.Request) -> httpx.Response:
        if request.url.port != 8701:  # these pages call exercises alone
            raise httpx.ConnectError("not started in this test", request=request)
        answer = exercises.client.request(
            request.method,
            request.url.path,
            params=request.url.params,
            content=request.content,
            headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    settings = WebSettings(database_url=f"sqlite:///{tmp_path / 'web.db'}")
    app = create_app(settings, api_transport=httpx.MockTransport(to_exercises))
    with TestClient(app, follow_redirects=False, client=BROWSER) as client:
        yield client


def csrf(web: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', web.get(path, follow_redirects=True).text)
    assert found
    return found.group(1)


HOME = {Role.operator: "/operator/payment-reviews", Role.manager: "/manager/exercises/new"}


def signed_in(web: TestClient, role: Role, subject_id: str) -> str:
    """Signs in a new account of `role`; the session's CSRF token, from a page of theirs that
    calls exercises alone."""
    email = f"{subject_id}@school.example"
    accounts: Accounts = web.app.state.accounts  # type: ignore[attr-defined]
    accounts.create(
        email=email, role=role, subject_id=subject_id, name=subject_id, password=PASSWORD
    )
    done = web.post(
        "/sign-in", data={"csrf": csrf(web, "/sign-in"), "email": email, "password": PASSWORD}
    )
    assert done.status_code == 303, done.text
    return csrf(web, HOME[role])


def test_the_page_lists_pending_payments_with_their_evidence(
    web: TestClient, exercises: Service
) -> None:
    _, review = held(exercises)
    signed_in(web, Role.operator, "ops")

    page = web.get("/operator/payment-reviews")

    assert page.status_code == 200
    assert 'href="/operator/payment-reviews"' in page.text  # in the operators' menu
    section = re.search(
        rf'<section class="payment-review" id="review-{review["id"]}".*?</section>', page.text, re.S
    )
    assert section is not None
    assert "30.00" in section.group(0) and "Anna Petrova" in section.group(0)
    assert "<strong>6 of 11</strong>" in section.group(0)
    assert "6 registered by them, 0 from their address" in section.group(0)
    assert section.group(0).count("registered by them</td>") == 6
    assert 'value="approve"' in section.group(0) and 'value="reject"' in section.group(0)


def test_approving_asks_first_then_pays_once(web: TestClient, exercises: Service) -> None:
    _, review = held(exercises)
    token = signed_in(web, Role.operator, "ops")
    path = f"/operator/payment-reviews/{review['id']}"

    asked = web.post(path, data={"csrf": token, "decision": "approve"})
    assert asked.status_code == 200 and "Yes, pay Anna Petrova" in asked.text
    assert paid(exercises) == []  # asking changes nothing

    done = web.post(path, data={"csrf": token, "decision": "approve", "confirm": "yes"})
    again = web.post(path, data={"csrf": token, "decision": "approve", "confirm": "yes"})

    assert done.status_code == 200 and 'id="decision-result"' in done.text
    assert "is approved: it is paid" in done.text
    assert again.status_code == 200
    assert len(paid(exercises)) == 1
    decided = exercises.ok("GET", f"/operator/payment-reviews/{review['id']}")
    assert (decided["status"], decided["decided_by"]) == ("approved", "ops")
    assert "No pending payment" in web.get("/operator/payment-reviews").text


def test_rejecting_needs_a_reason_asks_first_and_never_pays(
    web: TestClient, exercises: Service
) -> None:
    _, review = held(exercises)
    token = signed_in(web, Role.operator, "ops")
    path = f"/operator/payment-reviews/{review['id']}"

    empty = web.post(path, data={"csrf": token, "decision": "reject", "reason": "  "})
    asked = web.post(path, data={"csrf": token, "decision": "reject", "reason": "own candidates"})
    done = web.post(
        path,
        data={"csrf": token, "decision": "reject", "reason": "own candidates", "confirm": "yes"},
    )
    late = web.post(path, data={"csrf": token, "decision": "approve", "confirm": "yes"})

    assert empty.status_code == 422 and "Say why this payment is rejected" in empty.text
    assert asked.status_code == 200 and "Yes, reject the payment" in asked.text
    assert done.status_code == 200 and "it will never be paid (own candidates)" in done.text
    assert late.status_code == 409 and "rejected already" in late.text
    assert paid(exercises) == []
    assert exercises.ok("GET", f"/operator/payment-reviews/{review['id']}")["status"] == "rejected"


def test_a_manager_is_refused_the_page(web: TestClient, exercises: Service) -> None:
    _, review = held(exercises)
    token = signed_in(web, Role.manager, "anna")
    assert web.get("/operator/payment-reviews").status_code == 403
    refused = web.post(
        f"/operator/payment-reviews/{review['id']}",
        data={"csrf": token, "decision": "approve", "confirm": "yes"},
    )
    assert refused.status_code == 403 and paid(exercises) == []


def test_the_pages_forward_the_persons_address_which_exercises_keeps_as_their_origin(
    web: TestClient, exercises: Service
) -> None:
    manager = exercises.manager("Vera Orlova")
    token = signed_in(web, Role.manager, manager)
    form = {
        "csrf": token,
        "title": "Fractions",
        "statement": "Add 1/2 and 1/3",
        "accepted_answers": "5/6",
        "check_mode": "exact",
        "subject": "general",
        "difficulty": "2",
    }

    created = web.post("/manager/exercises/new", data=form)

    assert created.status_code == 303, created.text
    query = sa.select(tables.manager_origins.c.origin).where(
        tables.manager_origins.c.manager_id == manager
    )
    with exercises.runtime.engine.connect() as conn:
        stored = list(conn.execute(query).scalars())
    assert stored == [Origins(os.environ["TEACHER_HIRING_AUTH_SECRET"]).of_address(BROWSER[0])]
