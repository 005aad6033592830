"""Erasing a candidate everywhere while the money stays right (docs/security.md, erasure).

The three services served over HTTP (SQLite, the embedded log), their relays and consumers
driven by hand, and the web pages in-process: a manager writes an exercise, a candidate
registers, signs in to the pages and answers (wrong, then right), so the manager earns a
bonus. An operator erases the candidate on the pages. Then the balance, the ledger and
reconciliation are as before, and no database, the event log's included, holds the
candidate's name, email or answers, while the name in the events still in the log can no
longer be opened: hiring deleted the key.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from integration.credentials import OPERATOR, as_candidate
from integration.http_server import serving
from personal_data import found_in_database
from teacher_hiring.bonus.bootstrap import bootstrap as bonus_app
from teacher_hiring.bonus.settings import BonusSettings
from teacher_hiring.cli import app
from teacher_hiring.exercises.bootstrap import bootstrap as exercises_app
from teacher_hiring.exercises.settings import ExercisesSettings
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.foundation.time import rfc3339
from teacher_hiring.hiring.bootstrap import bootstrap as hiring_app
from teacher_hiring.hiring.settings import HiringSettings
from teacher_hiring.runtime.db import dispose, make_engine
from teacher_hiring.runtime.service import ServiceRuntime
from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web.bootstrap import create_app
from teacher_hiring.web.settings import WebSettings

pytestmark = pytest.mark.integration

NAME = "Zinaida Personova"
EMAIL = "zinaida.personova@mail.example"
ACCEPTED = "forty-two-secret"
RIGHT = "  FORTY-two-Secret "  # her correct answer as she typed it (checked normalized)
WRONG = "a wrong guess of hers"
PASSWORD = "correct horse battery"
PERSONAL = [NAME, EMAIL, RIGHT, WRONG]
SERVICES = ("exercises", "hiring", "bonus")


@dataclass
class Platform:
    folder: Path
    http: dict[str, httpx.Client]
    runtimes: dict[str, ServiceRuntime]
    web: TestClient

    def pump(self) -> None:
        """Relay every outbox and run every consumer until nothing moves."""
        moved = 1
        while moved:
            moved = 0
            for runtime in self.runtimes.values():
                moved += runtime.relay.run_once()
                for runner in runtime.runners:
                    moved += runner.run_once()

    def ok(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http[service].request(method, path, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()

    def found(self) -> dict[str, list[str]]:
        """Where a personal field of the candidate is, per database file."""
        found = {}
        for db in sorted(self.folder.glob("*.db")):
            engine = make_engine(f"sqlite:///{db}")
            try:
                found[db.stem] = found_in_database(engine, PERSONAL)
            finally:
                dispose(engine)
        return {name: where for name, where in found.items() if where}

    def money(self, manager_id: str) -> tuple[Any, ...]:
        account = self.ok("bonus", "GET", f"/accounts/{manager_id}", headers=OPERATOR)
        entries = self.ok("bonus", "GET", f"/accounts/{manager_id}/entries", headers=OPERATOR)
        report = self.ok(
            "bonus",
            "GET",
            "/operator/reconciliation",
            params={"until": rfc3339(time.time())},
            headers=OPERATOR,
        )
        return account["balance_cents"], entries, report["summary"]


def _settings(kind: type[Any], folder: Path, name: str, urls: dict[str, str]) -> Any:
    return kind(
        database_url=f"sqlite:///{folder}/{name}.db",
        event_log_url=f"sqlite:///{folder}/events.db",
        run_workers=False,
        log_level="warning",
        **{
            f"{other}_url": url
            for other, url in urls.items()
            if f"{other}_url" in kind.model_fields
        },
    )


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    ports = {name: free_port() for name in SERVICES}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    apps = {
        "exercises": exercises_app(
            _settings(ExercisesSettings, tmp_path, "exercises", urls).model_copy(
                update={"exercise_updates_link": "event"}
            )
        ),
        "hiring": hiring_app(_settings(HiringSettings, tmp_path, "hiring", urls)),
        "bonus": bonus_app(_settings(BonusSettings, tmp_path, "bonus", urls)),
    }
    web_settings = WebSettings(
        database_url=f"sqlite:///{tmp_path}/web.db",
        **{f"{name}_url": url for name, url in urls.items()},
    )
    with ExitStack() as stack:
        for name, app in apps.items():
            stack.enter_context(serving(app, ports[name]))
        http = {name: stack.enter_context(httpx.Client(base_url=url)) for name, url in urls.items()}
        web = stack.enter_context(TestClient(create_app(web_settings), follow_redirects=False))
        runtimes = {name: app.state.runtime for name, app in apps.items()}
        for runtime in runtimes.values():
            for runner in runtime.runners:
                runner.start()
        yield Platform(tmp_path, http, runtimes, web)


def _csrf(web: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', web.get(path, follow_redirects=True).text)
    assert found
    return found.group(1)


def _sign_in(web: TestClient, email: str) -> None:
    form = {"csrf": _csrf(web, "/sign-in"), "email": email, "password": PASSWORD}
    assert web.post("/sign-in", data=form).status_code == 303


def _earn_a_bonus(platform: Platform) -> tuple[str, str]:
    """A manager's exercise, and a candidate who answers it wrong then right."""
    manager = platform.ok(
        "exercises",
        "POST",
        "/managers",
        json={"first_name": "Anna", "last_name": "Petrova", "email": "anna@school.example"},
        headers=OPERATOR,
    )
    as_manager = {"Authorization": f"Bearer {manager['access_token']}"}
    exercise = platform.ok(
        "exercises",
        "POST",
        "/exercises",
        json={
            "author_id": manager["id"],
            "title": "Sum",
            "statement": "Say the secret",
            "accepted_answers": [ACCEPTED],
            "check_mode": "normalized",
        },
        headers=as_manager,
    )
    platform.pump()
    candidate = platform.ok("hiring", "POST", "/candidates", json={"name": NAME, "email": EMAIL})
    accounts = platform.web.app.state.accounts  # type: ignore[attr-defined]
    accounts.create(
        email=EMAIL, role=Role.candidate, subject_id=candidate["id"], name=NAME, password=PASSWORD
    )
    submissions = f"/candidates/{candidate['id']}/submissions"
    for answer in (WRONG, RIGHT):
        body = {"exercise_id": exercise["id"], "exercise_version": 1, "answer": answer}
        platform.ok("hiring", "POST", submissions, json=body, headers=as_candidate(candidate["id"]))
    platform.pump()
    return manager["id"], candidate["id"]


def test_an_erased_candidate_is_nowhere_and_the_money_is_unchanged(platform: Platform) -> None:
    manager_id, candidate_id = _earn_a_bonus(platform)
    balance, entries, summary = platform.money(manager_id)
    assert balance > 0 and len(entries["items"]) == 1
    assert summary["clean"] is True and summary["issued_count"] == 1
    before = platform.found()
    assert set(before) == {"hiring", "web"}, before  # the clear copies: the owner's and the pages'
    replica = platform.ok("exercises", "GET", "/candidates", headers=OPERATOR)
    assert [c["name"] for c in replica if c["candidate_id"] == candidate_id] == [""]

    accounts = platform.web.app.state.accounts  # type: ignore[attr-defined]
    accounts.create(
        email="ops@school.example",
        role=Role.operator,
        subject_id="ops",
        name="Ops",
        password=PASSWORD,
    )
    _sign_in(platform.web, "ops@school.example")
    csrf = _csrf(platform.web, "/operator/erase")
    asked = platform.web.post("/operator/erase", data={"csrf": csrf, "candidate_id": candidate_id})
    assert asked.status_code == 200 and NAME in asked.text and "Yes, erase" in asked.text
    assert platform.found() == before  # asking changes nothing
    done = platform.web.post(
        "/operator/erase", data={"csrf": csrf, "candidate_id": candidate_id, "confirm": "yes"}
    )
    assert done.status_code == 200, done.text
    assert "is erased" in done.text and "sign-in account deleted" in done.text
    platform.pump()

    assert platform.found() == {}
    assert platform.money(manager_id) == (balance, entries, summary)
    replica = platform.ok("exercises", "GET", "/candidates", headers=OPERATOR)
    assert [c["name"] for c in replica if c["candidate_id"] == candidate_id] == ["(erased)"]
    with platform.runtimes["hiring"].engine.connect() as conn:
        keys = conn.execute(sa.text("SELECT count(*) FROM person_keys")).scalar_one()
    assert keys == 0  # the name sealed in the events still in the log opens no more
    log = make_engine(f"sqlite:///{platform.folder}/events.db")
    try:
        names = found_in_database(log, ["sealed:v1:"])
    finally:
        dispose(log)
    assert names, "the log keeps the events, their names sealed"


def test_the_command_erases_the_candidate_everywhere_once(platform: Platform) -> None:
    manager_id, candidate_id = _earn_a_bonus(platform)
    money = platform.money(manager_id)
    assert platform.found()
    command = [
        "erase",
        "candidate",
        candidate_id,
        "--hiring-url",
        str(platform.http["hiring"].base_url),
        "--web-database-url",
        f"sqlite:///{platform.folder}/web.db",
    ]

    first = CliRunner().invoke(app, command)
    assert first.exit_code == 0, first.output
    assert "is erased" in first.output and "sign-in account deleted" in first.output
    platform.pump()

    assert platform.found() == {}
    assert platform.money(manager_id) == money
    again = CliRunner().invoke(app, command)
    assert again.exit_code == 0 and "was already erased" in again.output
    unknown = CliRunner().invoke(app, [*command[:2], "nobody", *command[3:]])
    assert unknown.exit_code == 1 and "404" in unknown.output
