"""Who may call what, on the three services as their bootstraps build them (SQLite, the
embedded log): each rule of docs/security.md tried the forbidden way (401 or 403), and the
permitted way once, so that a refusal cannot come from a route that refuses everyone.

Every token here is one the platform hands out or mints: a candidate's from their
registration, a manager's from their creation, an operator's and a service's minted with the
secret the services run on.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from integration.bonus.bonus_support import bonus_added, closed_port, envelope, fine_added
from integration.bonus.bonus_support import payment_commited as payment
from integration.credentials import AS_EXERCISES, OPERATOR, SERVICE, TOKENS
from integration.hiring.hiring_support import exercise_event, exercise_payload
from teacher_hiring.bonus.bootstrap import bootstrap as bonus_app
from teacher_hiring.bonus.settings import BonusSettings
from teacher_hiring.exercises.bootstrap import bootstrap as exercises_app
from teacher_hiring.exercises.settings import ExercisesSettings
from teacher_hiring.hiring.bootstrap import bootstrap as hiring_app
from teacher_hiring.hiring.settings import HiringSettings
from teacher_hiring.runtime.tokens import Role, Tokens

pytestmark = pytest.mark.integration

ANSWER = "secret-answer-4217"


@dataclass
class World:
    """The three services, and the people and things the cases name."""

    clients: dict[str, TestClient]
    ids: dict[str, str]
    headers: dict[str, dict[str, str]]

    def call(self, service: str, method: str, path: str, who: str, **kwargs: Any) -> Any:
        response: httpx.Response = self.clients[service].request(
            method, path.format(**self.ids), headers=self.headers[who], **kwargs
        )
        return response


def _settings(kind: type[Any], folder: Path, name: str, **overrides: Any) -> Any:
    """Every other service's URL a closed port: nothing here calls out."""
    nowhere = {
        f"{other}_url": f"http://127.0.0.1:{closed_port()}"
        for other in ("exercises", "hiring", "bonus")
        if f"{other}_url" in kind.model_fields
    }
    return kind(
        database_url=f"sqlite:///{folder}/{name}.db",
        event_log_url=f"sqlite:///{folder}/events.db",
        run_workers=False,
        log_level="warning",
        **nowhere,
        **overrides,
    )


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, f"{response.request.url}: {response.text}"
    return response.json()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("who-may-call-what")
    apps: dict[str, FastAPI] = {
        "exercises": exercises_app(
            _settings(ExercisesSettings, folder, "exercises", exercise_updates_link="event")
        ),
        "hiring": hiring_app(_settings(HiringSettings, folder, "hiring")),
        "bonus": bonus_app(_settings(BonusSettings, folder, "bonus")),
    }
    clients = {name: TestClient(app) for name, app in apps.items()}
    for client in clients.values():
        client.__enter__()
    try:
        yield _populated(clients)
    finally:
        for client in clients.values():
            client.__exit__(None, None, None)


def _populated(clients: dict[str, TestClient]) -> World:
    exercises, hiring = clients["exercises"], clients["hiring"]
    people = {"anna": "Anna Petrova", "boris": "Boris Ivanov"}
    managers = {
        key: _ok(
            exercises.post(
                "/managers",
                json={
                    "first_name": name.split()[0],
                    "last_name": name.split()[1],
                    "email": f"{key}@school.example",
                },
                headers=OPERATOR,
            )
        )
        for key, name in people.items()
    }
    anna = managers["anna"]["id"]
    headers = {
        "anna": _bearer(managers["anna"]["access_token"]),
        "boris": _bearer(managers["boris"]["access_token"]),
    }
    exercise = _ok(
        exercises.post(
            "/exercises",
            json={
                "author_id": anna,
                "title": "Sum",
                "statement": "2 + 2?",
                "accepted_answers": [ANSWER],
            },
            headers=headers["anna"],
        )
    )
    payload = exercise_payload(exercise["id"], answers=(ANSWER,), author_id=anna)
    pushed = hiring.post(
        "/api/v0/exercise",
        content=orjson.dumps(exercise_event(payload)),
        headers=AS_EXERCISES,
    )
    assert pushed.status_code == 200, pushed.text
    candidates = {
        key: _ok(hiring.post("/candidates", json={"name": key, "email": f"{key}@mail.example"}))
        for key in ("ivan", "olga")
    }
    headers |= {key: _bearer(body["access_token"]) for key, body in candidates.items()}
    report = {
        "exercise_id": exercise["id"],
        "exercise_version": 1,
        "title": "Sum",
        "author_id": anna,
        "candidate_id": candidates["ivan"]["id"],
    }
    opened = _ok(exercises.post("/api/complicate_exercise", json=report, headers=SERVICE))
    now = time.time()
    headers |= {
        "nobody": {},
        "operator": OPERATOR,
        "service": SERVICE,
        "expired": bearer_minted(TOKENS, Role.operator, "op", now - 7200),
        "forged": bearer_minted(Tokens("not-the-platform-secret-" * 2), Role.operator, "op", now),
        "elsewhere": bearer_minted(Tokens(TOKENS.secret, issuer="another"), Role.operator, "op"),
        "basic": {"Authorization": "Basic b3BlcmF0b3I6b3BlcmF0b3I="},
    }
    ids = {
        "anna": anna,
        "boris": managers["boris"]["id"],
        "exercise": exercise["id"],
        "ivan": candidates["ivan"]["id"],
        "olga": candidates["olga"]["id"],
        "assignment": opened["assignment_id"],
        "wrong_exercise": str(uuid.uuid4()),
        "review": str(uuid.uuid4()),  # no payment is held here: past the rule, 404
    }
    return World(clients, ids, headers)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def bearer_minted(
    tokens: Tokens, role: Role, subject: str, at: float | None = None
) -> dict[str, str]:
    return _bearer(tokens.mint(role, subject, 3600, now=time.time() if at is None else at))


SUBMISSION = {"exercise_id": "{exercise}", "exercise_version": 1, "answer": "wrong"}

# (service, method, path, who, body): the forbidden call, and the status it must get.
UNAUTHENTICATED = [
    ("bonus", "GET", "/accounts/{anna}", "nobody"),
    ("hiring", "GET", "/candidates/{ivan}", "expired"),
    ("exercises", "GET", "/exercises", "forged"),
    ("hiring", "GET", "/operator/links", "elsewhere"),
    ("exercises", "PUT", "/operator/links/exercise-updates", "basic"),
    ("bonus", "POST", "/api/v0/money", "nobody"),
    ("exercises", "GET", "/operator/payment-reviews", "nobody"),
    ("exercises", "POST", "/operator/payment-reviews/{review}/approve", "forged"),
]
FORBIDDEN = [
    # a candidate: only for themself, never the answers
    ("hiring", "GET", "/candidates/{olga}", "ivan"),
    ("hiring", "GET", "/candidates/{olga}/exercises", "ivan"),
    ("hiring", "GET", "/candidates/{olga}/submissions", "ivan"),
    ("hiring", "POST", "/candidates/{olga}/submissions", "ivan"),
    ("hiring", "POST", "/candidates/{ivan}/submissions", "operator"),
    ("hiring", "POST", "/candidates/{ivan}/submissions", "anna"),
    ("hiring", "GET", "/candidates", "ivan"),
    ("hiring", "GET", "/exercises", "ivan"),
    ("hiring", "GET", "/exercises/{exercise}/stats", "ivan"),
    ("exercises", "GET", "/exercises/{exercise}", "ivan"),
    ("exercises", "GET", "/exercises", "ivan"),
    ("exercises", "GET", "/candidates", "ivan"),
    ("bonus", "GET", "/ratings", "ivan"),
    ("bonus", "GET", "/accounts/{anna}", "ivan"),
    # a manager: their own account and assignments, writes as themself
    ("bonus", "GET", "/accounts/{boris}", "anna"),
    ("bonus", "GET", "/accounts/{boris}/entries", "anna"),
    ("bonus", "GET", "/accounts/{boris}/statement?start=2025-01-01&end=2025-02-01", "anna"),
    ("bonus", "GET", "/accounts/{boris}/balance-history", "anna"),
    ("bonus", "GET", "/accounts", "anna"),
    ("bonus", "GET", "/ledger/totals", "anna"),
    ("exercises", "POST", "/managers", "anna"),
    ("exercises", "PATCH", "/managers/{boris}", "anna"),
    ("exercises", "GET", "/assignments/{assignment}", "boris"),
    ("exercises", "GET", "/assignments?assignee_id={anna}", "boris"),
    ("exercises", "GET", "/totals/issued", "anna"),
    ("hiring", "GET", "/totals/issued", "anna"),
    # operator endpoints, on every service
    ("exercises", "GET", "/operator/links", "anna"),
    ("hiring", "GET", "/operator/topics", "anna"),
    ("hiring", "GET", "/operator/dead-letters", "ivan"),
    ("bonus", "GET", "/operator/links", "service"),
    ("bonus", "GET", "/operator/reconciliation", "anna"),
    ("bonus", "GET", "/operator/ledger-entries", "service"),
    ("exercises", "GET", "/operator/event-versions", "anna"),
    ("hiring", "PUT", "/operator/event-versions/leak", "service"),
    ("hiring", "GET", "/exercises/{exercise}/completions/{ivan}", "ivan"),
    ("hiring", "GET", "/exercises/{exercise}/completions/{ivan}", "anna"),
    ("hiring", "GET", "/operator/money-issued", "anna"),
    ("exercises", "POST", "/operator/money-issued/resend", "ivan"),
    ("hiring", "POST", "/operator/replays", "anna"),
    # the review queue of complication payments: operators only, never the manager paid
    ("exercises", "GET", "/operator/payment-reviews", "anna"),
    ("exercises", "GET", "/operator/payment-reviews/{review}", "anna"),
    ("exercises", "POST", "/operator/payment-reviews/{review}/approve", "anna"),
    ("exercises", "POST", "/operator/payment-reviews/{review}/approve", "service"),
    ("exercises", "POST", "/operator/payment-reviews/{review}/reject", "ivan"),
    # the services' own endpoints
    ("hiring", "POST", "/api/v0/exercise", "operator"),
    ("exercises", "POST", "/api/complicate_exercise", "anna"),
    ("bonus", "POST", "/api/v0/money", "operator"),
]
BODIES = {
    "/candidates/{olga}/submissions": SUBMISSION,
    "/candidates/{ivan}/submissions": SUBMISSION,
    "/managers": {"first_name": "Eve", "last_name": "Ill", "email": "eve@school.example"},
    "/managers/{boris}": {"team": "mine now"},
    "/operator/links/exercise-updates": {"mode": "event"},
    "/operator/money-issued/resend": {"event_ids": [str(uuid.uuid4())]},
    "/operator/replays": {"topic": "money", "event_ids": [str(uuid.uuid4())]},
    "/operator/payment-reviews/{review}/reject": {"reason": "own candidates"},
}


def _body(world: World, path: str) -> dict[str, Any] | None:
    body = BODIES.get(path)
    if body is None:
        return None
    return {k: v.format(**world.ids) if isinstance(v, str) else v for k, v in body.items()}


@pytest.mark.parametrize(("service", "method", "path", "who"), UNAUTHENTICATED)
def test_a_caller_who_cannot_be_known_is_401(
    world: World, service: str, method: str, path: str, who: str
) -> None:
    response = world.call(service, method, path, who, json=_body(world, path))

    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["detail"]


@pytest.mark.parametrize(("service", "method", "path", "who"), FORBIDDEN)
def test_a_caller_who_may_not_do_this_is_403(
    world: World, service: str, method: str, path: str, who: str
) -> None:
    response = world.call(service, method, path, who, json=_body(world, path))

    assert response.status_code == 403, response.text
    assert response.json()["detail"].split(":")[0] in {
        "role",
        "candidate_id",
        "manager_id",
        "assignee_id",
        "assignment_id",
    }


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("author_id", {"author_id": "{boris}", "title": "T", "statement": "S"}),
        ("editor_id", {"editor_id": "{boris}", "statement": "Harder"}),
    ],
)
def test_a_manager_writes_exercises_only_as_themself(
    world: World, field: str, body: dict[str, str]
) -> None:
    filled = {k: v.format(**world.ids) for k, v in body.items()} | {"accepted_answers": ["x"]}
    method, path = (
        ("POST", "/exercises") if field == "author_id" else ("PUT", "/exercises/{exercise}")
    )

    refused = world.call("exercises", method, path, "anna", json=filled)
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"].startswith(f"{field}: a manager may only act for themself")
    as_operator = world.call("exercises", method, path, "operator", json=filled)
    assert as_operator.status_code in (200, 201), as_operator.text


def test_the_permitted_holder_passes_each_rule(world: World) -> None:
    """The same routes as above, by whom they are for (404: past the rule, nothing there)."""
    allowed = [
        ("hiring", "GET", "/candidates/{ivan}", "ivan", 200),
        ("hiring", "GET", "/candidates/{ivan}/exercises", "ivan", 200),
        ("hiring", "GET", "/candidates/{ivan}/submissions", "operator", 200),
        ("hiring", "GET", "/candidates/{ivan}", "anna", 200),
        ("hiring", "GET", "/candidates", "boris", 200),
        ("exercises", "GET", "/candidates", "anna", 200),
        ("exercises", "GET", "/exercises/{exercise}", "service", 200),
        ("exercises", "GET", "/managers/{anna}", "service", 200),
        ("exercises", "GET", "/assignments/{assignment}", "anna", 200),
        ("exercises", "GET", "/assignments", "boris", 200),
        ("bonus", "GET", "/accounts/{anna}", "anna", 404),
        ("bonus", "GET", "/accounts/{boris}", "operator", 404),
        ("bonus", "GET", "/ratings", "boris", 200),
        ("hiring", "GET", "/operator/money-issued", "service", 200),
        ("bonus", "GET", "/operator/ledger-entries", "operator", 200),
        ("exercises", "GET", "/operator/topics", "operator", 200),
        ("exercises", "GET", "/operator/payment-reviews", "operator", 200),
        ("exercises", "GET", "/operator/payment-reviews/{review}", "operator", 404),
        ("hiring", "GET", "/health", "nobody", 200),
        ("exercises", "GET", "/ready", "nobody", 200),
        ("bonus", "GET", "/metrics", "nobody", 200),
        ("hiring", "GET", "/openapi.json", "nobody", 200),
        ("bonus", "GET", "/registry/subjects", "nobody", 200),
    ]
    got = [
        (service, path, who, world.call(service, method, path, who).status_code)
        for service, method, path, who, _ in allowed
    ]

    assert got == [(service, path, who, status) for service, _, path, who, status in allowed]
    assert world.call("exercises", "GET", "/assignments", "boris").json() == []


def test_only_the_candidate_submits_for_themself(world: World) -> None:
    response = world.call(
        "hiring",
        "POST",
        "/candidates/{ivan}/submissions",
        "ivan",
        json=_body(world, "/candidates/{ivan}/submissions"),
    )

    assert response.status_code == 200, response.text
    assert response.json()["correct"] is False


def test_a_token_handed_out_by_one_service_is_accepted_by_another(world: World) -> None:
    """Anna's token came from exercises at her creation; bonus verifies it on its own."""
    account = world.call("bonus", "GET", "/accounts/{anna}", "anna")

    assert account.status_code == 404  # past the rule: her account has no entry yet
    assert account.json()["detail"] != ""


def test_registration_and_creation_hand_out_tokens_of_the_new_person(world: World) -> None:
    registered = world.call(
        "hiring", "POST", "/candidates", "nobody", json={"name": "Pyotr", "email": "p@mail.example"}
    ).json()
    created = world.call(
        "exercises",
        "POST",
        "/managers",
        "operator",
        json={"first_name": "Vera", "last_name": "Lis", "email": "vera@school.example"},
    ).json()

    candidate = TOKENS.verify(registered["access_token"])
    manager = TOKENS.verify(created["access_token"])
    assert (candidate.role, candidate.subject) == (Role.candidate, registered["id"])
    assert (manager.role, manager.subject) == (Role.manager, created["id"])
    assert "access_token" not in world.call("exercises", "GET", "/managers/{anna}", "anna").json()


def _names_in(schema: Any, document: dict[str, Any], seen: set[str]) -> set[str]:
    """Every property name a schema can hold, through $ref, items and combinations."""
    if isinstance(schema, list):
        return set().union(*(_names_in(s, document, seen) for s in schema))
    if not isinstance(schema, dict):
        return set()
    names: set[str] = set()
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref not in seen:
        seen.add(ref)
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        names |= _names_in(target, document, seen)
    names |= set(schema.get("properties", {}))
    for value in schema.values():
        if isinstance(value, dict | list):
            names |= _names_in(value, document, seen)
    return names


def test_no_answer_a_candidate_can_get_holds_accepted_answers(world: World) -> None:
    """Every operation of every service, called with a candidate's token for themself: either
    refused, or neither its documented answers nor the answer it gave hold accepted answers."""
    path_ids = {"candidate_id": "ivan", "exercise_id": "exercise", "manager_id": "anna"}
    reached: list[str] = []
    for service, client in world.clients.items():
        document = client.get("/openapi.json").json()
        for template, operations in document["paths"].items():
            path = template
            for name, key in path_ids.items():
                path = path.replace("{" + name + "}", world.ids[key])
            for method, operation in operations.items():
                filled = path.format_map(_Dummy())
                response = client.request(method, filled, headers=world.headers["ivan"], json={})
                if response.status_code in (401, 403):
                    continue
                reached.append(f"{service} {method.upper()} {template}")
                answers = {
                    code: _names_in(answer, document, set())
                    for code, answer in operation["responses"].items()
                }
                assert all("accepted_answers" not in names for names in answers.values()), (
                    f"{service} {method.upper()} {template} documents accepted answers"
                )
                assert ANSWER not in response.text, f"{service} {method} {filled} showed the answer"

    assert "hiring GET /candidates/{candidate_id}/exercises" in reached
    assert "hiring POST /candidates/{candidate_id}/submissions" in reached
    assert not any(item.startswith("exercises GET /exercises") for item in reached), reached


class _Dummy(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "x"


def _new_exercise(world: World, author: str, answer: str) -> str:
    body = {"author_id": world.ids[author], "title": "Own", "statement": "1 + 1?"}
    created = world.call(
        "exercises", "POST", "/exercises", author, json=body | {"accepted_answers": [answer]}
    )
    return str(_ok(created)["id"])


def test_a_manager_edits_only_an_exercise_they_wrote_or_must_complicate(world: World) -> None:
    """Boris, neither the author nor the holder of its open assignment, cannot save a version
    of Anna's exercise (its fines would land on her); Anna can, and operators for anyone."""
    exercise_id = _new_exercise(world, "anna", "two")
    path = f"/exercises/{exercise_id}"

    by_boris = world.call(
        "exercises", "PUT", path, "boris", json={"editor_id": world.ids["boris"], "title": "Mine"}
    )
    unchanged = world.call("exercises", "GET", path, "operator").json()
    by_anna = world.call(
        "exercises", "PUT", path, "anna", json={"editor_id": world.ids["anna"], "title": "Hers"}
    )

    assert by_boris.status_code == 403, by_boris.text
    assert by_boris.json()["detail"].startswith("editor_id: manager ")
    assert "may not edit exercise" in by_boris.json()["detail"]
    assert (unchanged["version"], unchanged["title"]) == (1, "Own")
    assert by_anna.status_code == 200, by_anna.text
    assert by_anna.json()["version"] == 2


def test_a_manager_sees_the_accepted_answers_of_their_own_exercises_only(world: World) -> None:
    """Every route of exercises that returns accepted answers: Boris gets null for Anna's."""
    answer = "annas-own-answer-5531"
    exercise_id = _new_exercise(world, "anna", answer)
    routes = [
        f"/exercises/{exercise_id}",
        f"/exercises/{exercise_id}/versions",
        "/exercises",
        f"/exercises?author_id={world.ids['anna']}",
    ]

    for path in routes:
        seen_by_boris = world.call("exercises", "GET", path, "boris")
        seen_by_anna = world.call("exercises", "GET", path, "anna")
        seen_by_operator = world.call("exercises", "GET", path, "operator")
        assert seen_by_boris.status_code == 200, seen_by_boris.text
        assert answer not in seen_by_boris.text and ANSWER not in seen_by_boris.text, path
        assert answer in seen_by_anna.text and answer in seen_by_operator.text, path
    assert (
        world.call("exercises", "GET", f"/exercises/{exercise_id}", "boris").json()[
            "accepted_answers"
        ]
        is None
    )
    assert world.call("exercises", "GET", f"/exercises/{exercise_id}", "service").json()[
        "accepted_answers"
    ] == [answer]


def _money(name: str, manager_id: str) -> bytes:
    payloads = {"BonusAdded": bonus_added, "FineAdded": fine_added, "PaymentCommited": payment}
    return envelope(name, payloads[name](manager_id)).to_json()


@pytest.mark.parametrize(
    ("name", "owner", "intruders"),
    [
        ("BonusAdded", "hiring", ("exercises", "bonus", "tests")),
        ("FineAdded", "hiring", ("exercises", "bonus")),
        ("PaymentCommited", "exercises", ("hiring", "bonus")),
    ],
)
def test_the_money_link_takes_money_only_from_the_service_that_issues_it(
    world: World, name: str, owner: str, intruders: tuple[str, ...]
) -> None:
    manager_id = str(uuid.uuid4())
    for intruder in intruders:
        refused = world.clients["bonus"].post(
            "/api/v0/money",
            content=_money(name, manager_id),
            headers=bearer_minted(TOKENS, Role.service, intruder),
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"].startswith(f"caller: {name} is taken from {owner}")
    nothing = world.call("bonus", "GET", f"/accounts/{manager_id}", "operator")
    assert nothing.status_code == 404, nothing.text  # no entry was booked

    taken = world.clients["bonus"].post(
        "/api/v0/money",
        content=_money(name, manager_id),
        headers=bearer_minted(TOKENS, Role.service, owner),
    )
    assert taken.status_code == 200, taken.text
    assert world.call("bonus", "GET", f"/accounts/{manager_id}", "operator").status_code == 200


@pytest.mark.parametrize("intruder", ["hiring", "bonus", "tests"])
def test_only_exercises_may_push_an_exercise_to_hiring(world: World, intruder: str) -> None:
    exercise_id = str(uuid.uuid4())
    payload = exercise_payload(exercise_id, answers=("pushed",), author_id=world.ids["anna"])
    body = orjson.dumps(exercise_event(payload))

    refused = world.clients["hiring"].post(
        "/api/v0/exercise", content=body, headers=bearer_minted(TOKENS, Role.service, intruder)
    )
    stats = f"/exercises/{exercise_id}/stats"
    before = world.call("hiring", "GET", stats, "operator").status_code
    taken = world.clients["hiring"].post("/api/v0/exercise", content=body, headers=AS_EXERCISES)

    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"].startswith("caller: ExerciseCreated is taken from exercises")
    assert before == 404  # the refused push left no exercise
    assert taken.status_code == 200 and taken.json() == {"applied": True}
    assert world.call("hiring", "GET", stats, "operator").status_code == 200


def test_a_producer_sends_its_events_again_only_for_a_consumer_of_the_topic(world: World) -> None:
    """A replay on the secured broker is written by the topic's producer: hiring sends again
    what it issued on `money` when bonus asks (or an operator), for no other service."""
    body = {"topic": "money", "event_ids": [str(uuid.uuid4())]}
    for intruder in ("exercises", "tests"):
        refused = world.clients["hiring"].post(
            "/operator/replays", json=body, headers=bearer_minted(TOKENS, Role.service, intruder)
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"].startswith("caller: money is replayed for its consumers")

    asked = world.clients["hiring"].post(
        "/operator/replays", json=body, headers=bearer_minted(TOKENS, Role.service, "bonus")
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["items"] == [{"event_id": body["event_ids"][0], "outcome": "unknown"}]

    elsewhere = world.call(
        "hiring", "POST", "/operator/replays", "operator", json={**body, "topic": "exercises"}
    )
    assert elsewhere.status_code == 404, elsewhere.text
    assert elsewhere.json()["detail"].startswith(
        "topic: 'exercises' is not a topic hiring produces"
    )


def test_no_service_takes_a_password_so_only_the_pages_sign_in_needs_a_limit(world: World) -> None:
    """People sign in on the web pages only (whose failures slow down, docs/web.md): no
    operation of any service takes a password, to be guessed without that limit."""
    for name, client in world.clients.items():
        document = client.get("/openapi.json").json()
        text = orjson.dumps(document).decode().lower()
        assert "password" not in text, name
        paths = " ".join(document["paths"])
        for word in ("login", "sign-in", "signin"):
            assert word not in paths, (name, word)
        # POST /tokens/refresh takes a refresh token (32 random bytes), nothing to guess
        assert not [path for path in document["paths"] if path.rstrip("/").endswith("/token")]
