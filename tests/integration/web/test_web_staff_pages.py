"""The managers' and operators' pages without a browser, the services answered by a stand-in:
what each page joins and shows, whose it is, what a conflict keeps, what a switch asks first."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web.accounts.store import Accounts
from teacher_hiring.web.bootstrap import create_app
from teacher_hiring.web.settings import WebSettings

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
PORTS = {8701: "exercises", 8702: "hiring", 8703: "bonus"}
AT = "2026-12-06T10:00:00.000000Z"


def exercise(exercise_id: str, author: str, version: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "id": exercise_id,
        "title": f"Title {exercise_id}",
        "statement": f"Statement {exercise_id} v{version}",
        "accepted_answers": ["secret-answer-42"],
        "check_mode": "normalized",
        "subject": "general",
        "difficulty": 3,
        "author_id": author,
        "version": version,
        "status": "active",
        "created_at": AT,
        "updated_at": AT,
        **fields,
    }


class Services:
    """The three services' answers the pages need, and the calls they received."""

    def __init__(self) -> None:
        self.exercises = {
            "ex-anna": exercise("ex-anna", "anna"),
            "ex-boris": exercise("ex-boris", "boris"),
        }
        self.calls: list[tuple[str, str, str, Any]] = []
        self.down: set[str] = set()
        self.link_mode = "push"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        service = PORTS[request.url.port or 0]
        body = json.loads(request.content) if request.content else None
        self.calls.append((service, request.method, request.url.path, body))
        if service in self.down:
            raise httpx.ConnectError("refused", request=request)
        if request.url.path == "/metrics":
            return httpx.Response(200, text=f'outbox_backlog{{service="{service}"}} 3.0\n')
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok", "service": service})
        answer = self.answer(service, request.method, request.url.path, request.url.params, body)
        if answer is None:
            return httpx.Response(404, json={"detail": "not here", "error": "NotFound"})
        status, payload = answer
        return httpx.Response(status, json=payload)

    def answer(
        self, service: str, method: str, path: str, params: httpx.QueryParams, body: Any
    ) -> tuple[int, Any] | None:
        route = (service, method, path)
        if route == ("exercises", "GET", "/exercises"):
            author = params.get("author_id")
            return 200, [e for e in self.exercises.values() if e["author_id"] == author]
        if route == ("hiring", "GET", "/exercises"):
            author = params.get("author_id")
            items = [
                {
                    "exercise_id": e["id"],
                    "version": e["version"],
                    "completions": 11,
                    "rating": 0,
                    "needs_complication": True,
                }
                for e in self.exercises.values()
                if e["author_id"] == author
            ]
            return 200, {"items": items, "total": len(items), "limit": 1000, "offset": 0}
        if service == "exercises" and method == "GET" and path.startswith("/exercises/"):
            found = self.exercises.get(path.rsplit("/", 1)[-1])
            return None if found is None else (200, found)
        if service == "exercises" and method == "PUT" and path.startswith("/exercises/"):
            found = self.exercises[path.rsplit("/", 1)[-1]]
            if body["expected_version"] != found["version"]:
                detail = f"expected_version: at version {found['version']}"
                return 409, {"detail": detail, "error": "VersionConflict", "field": "x"}
            saved = {**found, "version": found["version"] + 1, "statement": body["statement"]}
            self.exercises[found["id"]] = saved
            return 200, {**saved, "pushed": True, "closed_assignment_ids": ["as-1"]}
        if route == ("exercises", "GET", "/assignments"):
            return 200, []
        if route == ("exercises", "POST", "/managers"):
            name = f"{body['first_name']} {body['last_name']}".strip()
            manager = {"id": "new-manager", "name": name, **body, "open_assignments": 0}
            return 201, {**manager, "access_token": "never shown"}
        if route == ("exercises", "GET", "/managers"):
            return 200, []
        if method == "GET" and path.startswith("/managers/") and service == "exercises":
            manager_id = path.rsplit("/", 1)[-1]
            return 200, {"id": manager_id, "name": "Anna Petrova", "email": "a@school.example"}
        if method == "POST" and path == "/operator/revocations":
            return 200, {**body, "not_before": 1.0}
        if method == "GET" and path == "/operator/links":
            if service != "exercises":
                return 200, []
            return 200, [
                {
                    "link": "exercise-updates",
                    "mode": self.link_mode,
                    "modes": ["push", "event"],
                    "event_name": "ExerciseUpdated",
                    "events": ["ExerciseUpdated", "ExerciseCreated"],
                    "receiver": "hiring",
                    "description": "Exercise streaming",
                    "switched_at": None,
                }
            ]
        if route == ("exercises", "PUT", "/operator/links/exercise-updates"):
            self.link_mode = body["mode"]
            return 200, {"link": "exercise-updates", "mode": body["mode"], "receiver": "hiring"}
        if method == "GET" and path == "/operator/topics":
            return 200, [{"topic": "money", "partitions": 1, "records": 12}]
        if method == "GET" and path == "/operator/dead-letters":
            return 200, {"items": [], "total": 0, "limit": 1, "skip": 0, "topics": {}}
        if route == ("exercises", "GET", "/candidates"):
            return 200, [
                {
                    "candidate_id": "cand-1",
                    "name": "",
                    "status": "candidate",
                    "exercises_to_solve": [{"exercise_id": "ex-anna"}],
                    "exercises_solved": [],
                    "created_at": AT,
                    "updated_at": AT,
                }
            ]
        if route == ("hiring", "GET", "/candidates"):
            item = {"id": "cand-1", "name": "Ivan Sidorov", "email": "i@mail.example"}
            return 200, {"items": [item], "total": 1, "limit": 1000, "offset": 0}
        return None


@pytest.fixture
def services() -> Services:
    return Services()


@pytest.fixture
def web(tmp_path: Path, services: Services) -> Iterator[TestClient]:
    settings = WebSettings(database_url=f"sqlite:///{tmp_path / 'web.db'}")
    app = create_app(settings, api_transport=httpx.MockTransport(services))
    with TestClient(app, follow_redirects=False) as client:
        yield client


def csrf(web: TestClient, path: str = "/sign-in") -> str:
    page = web.get(path, follow_redirects=True)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def signed_in(web: TestClient, role: Role, subject_id: str) -> str:
    """Signs in a new account of `role`; the session's CSRF token."""
    email = f"{subject_id}@school.example"
    accounts: Accounts = web.app.state.accounts  # type: ignore[attr-defined]
    accounts.create(
        email=email, role=role, subject_id=subject_id, name=subject_id, password=PASSWORD
    )
    done = web.post("/sign-in", data={"csrf": csrf(web), "email": email, "password": PASSWORD})
    assert done.status_code == 303, done.text
    return csrf(web, "/")


def test_a_managers_exercises_join_exercises_text_with_hirings_counts(web: TestClient) -> None:
    signed_in(web, Role.manager, "anna")

    page = web.get("/manager")

    assert page.status_code == 200
    assert "Title ex-anna" in page.text and "Title ex-boris" not in page.text
    row = re.search(r'<tr data-exercise="ex-anna">.*?</tr>', page.text, re.S)
    assert row is not None
    assert "Leaked: solved more than 10 times" in row.group(0)
    assert ">11<" in row.group(0) and "Complicate" in row.group(0)


def test_another_managers_exercise_is_a_403_page_that_shows_nothing_of_it(
    web: TestClient,
) -> None:
    token = signed_in(web, Role.manager, "anna")

    page = web.get("/manager/exercises/ex-boris")
    saved = web.post(
        "/manager/exercises/ex-boris",
        data={"csrf": token, "expected_version": "1", "title": "Mine", "statement": "Mine"},
    )

    assert page.status_code == 403 and saved.status_code == 403
    assert "Statement ex-boris" not in page.text and "secret-answer" not in page.text


def test_another_managers_exercise_is_a_403_page_as_exercises_really_answers_it(
    web: TestClient, services: Services
) -> None:
    """exercises shows a manager no answers of another's exercise (null): still a 403 page."""
    services.exercises["ex-boris"] = exercise("ex-boris", "boris", accepted_answers=None)
    token = signed_in(web, Role.manager, "anna")

    page = web.get("/manager/exercises/ex-boris")
    saved = web.post(
        "/manager/exercises/ex-boris",
        data={"csrf": token, "expected_version": "1", "title": "Mine", "statement": "Mine"},
    )

    assert page.status_code == 403 and saved.status_code == 403
    assert "another manager" in page.text and "Statement ex-boris" not in page.text
    assert not [call for call in services.calls if call[1] == "PUT"]


def test_a_version_conflict_shows_the_saved_version_and_keeps_the_managers_text(
    web: TestClient, services: Services
) -> None:
    token = signed_in(web, Role.manager, "anna")
    services.exercises["ex-anna"] = exercise("ex-anna", "anna", version=2)
    form = {
        "csrf": token,
        "expected_version": "1",
        "title": "Title ex-anna",
        "statement": "My harder statement",
        "accepted_answers": "43",
        "check_mode": "normalized",
        "subject": "general",
        "difficulty": "4",
    }

    conflict = web.post("/manager/exercises/ex-anna", data=form)

    assert conflict.status_code == 422
    assert "Version 2, saved meanwhile" in conflict.text
    assert "Statement ex-anna v2" in conflict.text
    assert "My harder statement</textarea>" in conflict.text
    assert 'name="expected_version" value="2"' in conflict.text
    again = web.post("/manager/exercises/ex-anna", data={**form, "expected_version": "2"})
    assert again.status_code == 303
    assert services.exercises["ex-anna"]["statement"] == "My harder statement"
    shown = web.get(again.headers["location"])
    assert "saved as version 3" in shown.text and "closed 1 complication assignment" in shown.text


def test_a_new_managers_first_visit_link_is_shown_once_and_works(
    web: TestClient, services: Services
) -> None:
    token = signed_in(web, Role.operator, "ops")
    form = {"first_name": "Maria", "last_name": "Ivanova", "team": "", "email": "m@school.example"}

    created = web.post("/operator/managers/new", data={"csrf": token, **form})

    assert created.status_code == 200
    link = re.search(r'id="first-visit-link" href="([^"]+)"', created.text)
    assert link is not None and "/welcome/" in link.group(1)
    assert "never shown" not in created.text
    sent = next(c for c in services.calls if c[1:3] == ("POST", "/managers"))
    assert sent[3] == {"first_name": "Maria", "last_name": "Ivanova", "email": "m@school.example"}
    web.cookies.clear()
    welcome = web.get(link.group(1).removeprefix("http://testserver"))
    assert welcome.status_code == 200 and "Choose the password" in welcome.text


def test_a_switch_asks_first_naming_what_it_changes_and_a_get_changes_nothing(
    web: TestClient, services: Services
) -> None:
    token = signed_in(web, Role.operator, "ops")
    form = {"csrf": token, "service": "exercises", "link": "exercise-updates", "mode": "event"}

    asked = web.post("/operator/switches/link", data=form)

    assert asked.status_code == 200
    assert services.link_mode == "push"
    assert "from <strong>push</strong> to <strong>event</strong>" in asked.text
    assert "<code>ExerciseUpdated</code>" in asked.text
    done = web.post("/operator/switches/link", data={**form, "confirm": "yes"})
    assert done.status_code == 200 and services.link_mode == "event"
    refused = web.post("/operator/switches/link", data={**form, "csrf": "", "mode": "push"})
    assert refused.status_code == 403 and services.link_mode == "event"


def test_the_live_figures_name_a_service_that_is_down(web: TestClient, services: Services) -> None:
    signed_in(web, Role.operator, "ops")
    services.down.add("bonus")

    live = web.get("/operator/live.json").json()
    page = web.get("/operator")

    states = {s["name"]: (s["up"], s["outbox_backlog"]) for s in live["services"]}
    assert states == {"exercises": (True, 3), "hiring": (True, 3), "bonus": (False, None)}
    # Signing in landed on the live page: its reading was the first, so this one has a rate.
    assert live["topics"] == [
        {"topic": "money", "records": 12, "per_second": 0.0, "dead_letters": 0}
    ]
    assert page.status_code == 200 and 'data-service="bonus"' in page.text and ">Down<" in page.text


def test_a_manager_is_refused_the_operators_pages(web: TestClient) -> None:
    signed_in(web, Role.manager, "anna")
    for path in ("/operator", "/operator/live.json", "/operator/dead-letters", "/operator/erase"):
        assert web.get(path).status_code == 403, path


def test_the_managers_candidates_take_their_names_from_hiring(
    web: TestClient, services: Services
) -> None:
    signed_in(web, Role.manager, "anna")
    assert "Ivan Sidorov" in web.get("/manager/candidates").text
    services.down.add("hiring")
    shown = web.get("/manager/candidates")
    assert shown.status_code == 200 and "Ivan Sidorov" not in shown.text
    assert "0 of 1" in shown.text


def test_erasing_an_unknown_candidate_names_the_field_and_erases_nothing(
    web: TestClient, services: Services
) -> None:
    token = signed_in(web, Role.operator, "ops")
    form = web.get("/operator/erase")
    assert form.status_code == 200 and 'name="candidate_id"' in form.text

    missing = web.post("/operator/erase", data={"csrf": token, "candidate_id": "cand-9"})
    empty = web.post("/operator/erase", data={"csrf": token, "candidate_id": "  "})

    assert missing.status_code == 404 and "There is no candidate cand-9." in missing.text
    assert empty.status_code == 422 and "A candidate&#39;s id." in empty.text
    assert not [c for c in services.calls if c[1] == "POST"]


def test_revoking_a_manager_ends_their_sessions_and_tells_every_service(
    web: TestClient, services: Services, tmp_path: Path
) -> None:
    settings = WebSettings(database_url=f"sqlite:///{tmp_path / 'web.db'}")
    app = create_app(settings, api_transport=httpx.MockTransport(services))
    with TestClient(app, follow_redirects=False) as anna_web:  # Anna, signed in elsewhere
        signed_in(anna_web, Role.manager, "anna")
        assert anna_web.get("/manager").status_code == 200
        token = signed_in(web, Role.operator, "ops")
        services.down.add("bonus")

        revoked = web.post("/operator/managers/anna/revoke", data={"csrf": token})

        assert revoked.status_code == 200, revoked.text
        assert "Sessions ended on these pages: 1." in revoked.text
        assert "Not told yet (not answering): <strong>bonus</strong>" in revoked.text
        told = [c[0] for c in services.calls if c[1:3] == ("POST", "/operator/revocations")]
        assert told == ["exercises", "hiring", "bonus"]
        sent = next(c[3] for c in services.calls if c[2] == "/operator/revocations")
        assert sent == {"role": "manager", "subject": "anna"}
        assert anna_web.get("/manager").status_code in (302, 303)  # signed out
        refused = web.post("/operator/managers/anna/revoke", data={"csrf": ""})
        assert refused.status_code == 403
