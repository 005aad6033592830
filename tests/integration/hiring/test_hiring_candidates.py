"""Registering candidates, assigning exercises, and the whole way from candidate to teacher."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from integration.credentials import OPERATOR
from integration.hiring.hiring_support import Hiring, make_settings
from teacher_hiring.hiring.adapters.repository import HiringRepository
from teacher_hiring.hiring.bootstrap import bootstrap
from teacher_hiring.hiring.domain.commands import RegisterCandidate
from teacher_hiring.hiring.domain.errors import EmailAlreadyRegistered
from teacher_hiring.hiring.service_layer.results import Registration
from teacher_hiring.messaging.unit_of_work import UnitOfWork

pytestmark = pytest.mark.integration


def test_a_candidate_who_solves_every_exercise_becomes_a_teacher(hiring: Hiring) -> None:
    answers = {hiring.add_exercise(answers=(f"a{i}",))["exercise_id"]: f"a{i}" for i in range(3)}
    candidate = hiring.register("Ivan Sidorov")
    assert candidate["status"] == "candidate"
    assert sorted(e["exercise_id"] for e in candidate["exercises"]) == sorted(answers)

    created = hiring.events("CandidateCreated")
    assert len(created) == 1
    sealed = created[0]["payload"]["candidate_name"]
    assert hiring.opened_name(candidate["id"], sealed) == "Ivan Sidorov"
    assert created[0]["payload"] == {
        "candidate_id": candidate["id"],
        "candidate_name": sealed,
        "created_at": created[0]["payload"]["created_at"],
        "status": "candidate",
        "exercises_to_solve": [{"exercise_id": e["exercise_id"]} for e in candidate["exercises"]],
    }
    assert created[0]["payload"]["created_at"].endswith("Z")

    first, *rest = candidate["exercises"]
    wrong = hiring.submit(candidate["id"], first["exercise_id"], "no idea").json()
    assert wrong["correct"] is False and wrong["candidate_status"] == "candidate"
    for exercise in candidate["exercises"][:-1]:
        verdict = hiring.solve(
            candidate["id"], exercise["exercise_id"], answers[exercise["exercise_id"]]
        )
        assert verdict["candidate_status"] == "candidate"
    assert hiring.events("CandidateUpdated") == []

    last = rest[-1]["exercise_id"]
    assert hiring.solve(candidate["id"], last, answers[last])["candidate_status"] == "teacher"

    detail = hiring.http.get(f"/candidates/{candidate['id']}").json()
    assert detail["status"] == "teacher"
    assert all(e["solved"] for e in detail["exercises"])
    (updated,) = hiring.events("CandidateUpdated")
    assert updated["payload"]["status"] == "teacher"
    assert hiring.opened_name(candidate["id"], updated["payload"]["candidate_name"]) == (
        "Ivan Sidorov"
    )
    assert updated["payload"]["exercises_to_solve"] == []
    assert updated["payload"]["exercises_solved"] == [
        {"exercise_id": e["exercise_id"]} for e in candidate["exercises"]
    ]
    assert len(hiring.events("BonusAdded")) == 3


def test_exercises_least_completed_first_ties_by_id(hiring: Hiring) -> None:
    ids = sorted(hiring.add_exercise(answers=("x",))["exercise_id"] for _ in range(4))
    first = hiring.register("First")
    assert [e["exercise_id"] for e in first["exercises"]] == ids[:3]
    hiring.solve(first["id"], ids[0], "x")
    hiring.solve(first["id"], ids[1], "x")

    second = hiring.register("Second")
    assert [e["exercise_id"] for e in second["exercises"]] == [ids[2], ids[3], ids[0]]


def test_a_managers_exercises_are_listed_with_their_completions(hiring: Hiring) -> None:
    anna = hiring.add_exercise(author_id="anna", answers=("x",))["exercise_id"]
    hiring.add_exercise(author_id="boris", answers=("x",))
    candidate = hiring.register()
    hiring.solve(candidate["id"], anna, "x")

    page = hiring.http.get("/exercises", params={"author_id": "anna"}).json()

    assert page["total"] == 1
    assert [(e["exercise_id"], e["author_id"]) for e in page["items"]] == [(anna, "anna")]
    assert (page["items"][0]["completions"], page["items"][0]["needs_complication"]) == (1, False)
    assert hiring.http.get("/exercises", params={"author_id": "nobody"}).json()["items"] == []


def test_fewer_exercises_than_three_are_all_assigned(hiring: Hiring) -> None:
    only = hiring.add_exercise()
    candidate = hiring.register()
    assert candidate["exercises"] == [
        {
            "exercise_id": only["exercise_id"],
            "title": only["title"],
            "version": 1,
            "subject": "general",
            "difficulty": 3,
        }
    ]


def test_no_exercise_yet_is_a_conflict_that_says_when_to_ask_again_and_creates_nothing(
    hiring: Hiring,
) -> None:
    response = hiring.http.post("/candidates", json={"name": "Ivan", "email": "ivan@mail.example"})
    assert response.status_code == 409
    assert response.json()["error"] == "NoExercisesAvailable"
    assert "may still be on their way" in response.json()["detail"]
    assert response.headers["retry-after"] == "1"  # hiring learns of exercises by events
    assert hiring.count("candidates") == 0
    assert hiring.events() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "email": "ivan@mail.example"}, "name"),
        ({"name": "x" * 201, "email": "ivan@mail.example"}, "name"),
        ({"name": "Ivan", "email": "not an email"}, "email"),
    ],
)
def test_bad_candidate_fields_are_refused_by_name(
    hiring: Hiring, body: dict[str, str], field: str
) -> None:
    hiring.add_exercise()
    response = hiring.http.post("/candidates", json=body)
    assert response.status_code == 422
    assert field in response.text


def test_exercises_to_solve_never_show_the_accepted_answers(hiring: Hiring) -> None:
    exercise = hiring.add_exercise(answers=("secret-answer",))
    candidate = hiring.register()
    hiring.submit(candidate["id"], exercise["exercise_id"], "guess")

    response = hiring.http.get(f"/candidates/{candidate['id']}/exercises")
    assert response.status_code == 200
    assert "secret-answer" not in response.text
    assert response.json() == [
        {
            "exercise_id": exercise["exercise_id"],
            "title": exercise["title"],
            "statement": exercise["statement"],
            "subject": "general",
            "difficulty": 3,
            "version": 1,
            "solved": False,
            "attempts_left": 4,
        }
    ]
    assert "secret-answer" not in hiring.http.get("/exercises").text
    assert (
        "secret-answer" not in hiring.http.get(f"/exercises/{exercise['exercise_id']}/stats").text
    )


def test_unknown_candidate_is_404_on_every_candidate_route(hiring: Hiring) -> None:
    for path in ("/candidates/nobody", "/candidates/nobody/exercises"):
        response = hiring.http.get(path)
        assert response.status_code == 404
        assert response.json()["error"] == "CandidateNotFound"


def test_candidates_are_listed_by_status_with_paging(hiring: Hiring) -> None:
    exercise = hiring.add_exercise()
    ids = [hiring.register(f"Candidate {n}")["id"] for n in range(3)]
    hiring.solve(ids[1], exercise["exercise_id"], "42")

    everyone = hiring.http.get("/candidates").json()
    assert [c["id"] for c in everyone["items"]] == ids and everyone["total"] == 3
    teachers = hiring.http.get("/candidates", params={"status": "teacher"}).json()
    assert [c["id"] for c in teachers["items"]] == [ids[1]]
    page = hiring.http.get("/candidates", params={"limit": 1, "offset": 2}).json()
    assert [c["id"] for c in page["items"]] == [ids[2]] and page["total"] == 3
    assert hiring.http.get("/candidates", params={"status": "boss"}).status_code == 422


def test_openapi_documents_every_route_with_its_docstring(hiring: Hiring) -> None:
    paths = hiring.http.get("/openapi.json").json()["paths"]
    expected = {
        ("post", "/candidates"),
        ("get", "/candidates"),
        ("get", "/candidates/{candidate_id}"),
        ("get", "/candidates/{candidate_id}/exercises"),
        ("post", "/candidates/{candidate_id}/submissions"),
        ("get", "/exercises"),
        ("get", "/exercises/{exercise_id}/stats"),
        ("post", "/api/v0/exercise"),
        ("get", "/totals/issued"),
    }
    for method, path in expected:
        assert paths[path][method]["description"], (method, path)
    submission = paths["/candidates/{candidate_id}/submissions"]["post"]
    assert {"403", "404", "409", "422", "429"} <= set(submission["responses"])


def test_a_candidate_shows_when_they_became_a_teacher(hiring: Hiring) -> None:
    answers = {hiring.add_exercise(answers=(f"a{i}",))["exercise_id"]: f"a{i}" for i in range(2)}
    candidate = hiring.register("Olga Teacher")
    first, last = (e["exercise_id"] for e in candidate["exercises"])
    hiring.solve(candidate["id"], first, answers[first])
    detail = hiring.http.get(f"/candidates/{candidate['id']}").json()
    assert detail["status"] == "candidate" and detail["became_teacher_at"] is None

    hiring.solve(candidate["id"], last, answers[last])
    detail = hiring.http.get(f"/candidates/{candidate['id']}").json()
    solved_at = {e["exercise_id"]: e["solved_at"] for e in detail["exercises"]}
    assert detail["status"] == "teacher"
    assert detail["became_teacher_at"] == solved_at[last] == max(solved_at.values())


def test_one_candidate_per_email_whatever_its_case_or_spaces(hiring: Hiring) -> None:
    """Registering again would give five fresh attempts at the same exercises: 409."""
    hiring.add_exercise(answers=("x",))
    first = hiring.http.post("/candidates", json={"name": "Ivan", "email": "Ivan@Mail.example"})
    again = [
        hiring.http.post("/candidates", json={"name": "Ivan 2", "email": email})
        for email in ("Ivan@Mail.example", "ivan@mail.example", "  IVAN@MAIL.EXAMPLE ")
    ]
    other = hiring.http.post("/candidates", json={"name": "Olga", "email": " olga@mail.example"})

    assert first.status_code == 201, first.text
    assert [r.status_code for r in again] == [409, 409, 409], [r.text for r in again]
    assert all(r.json()["detail"].startswith("email: a candidate") for r in again)
    assert other.status_code == 201 and other.json()["email"] == "olga@mail.example"
    assert len(hiring.events("CandidateCreated")) == 2
    assert hiring.http.get("/candidates").json()["total"] == 2


def test_one_candidate_per_mailbox_whatever_sub_address_or_gmail_dots(hiring: Hiring) -> None:
    """`ivan+2@` reaches `ivan@`'s mailbox: registering it would be a second account of the
    same person with fresh attempts at the same exercises, so it is refused (409)."""
    hiring.add_exercise(answers=("x",))
    first = hiring.http.post("/candidates", json={"name": "Ivan", "email": "ivan@mail.example"})
    gmail = hiring.http.post("/candidates", json={"name": "Olga", "email": "olga.k@gmail.com"})
    again = [
        hiring.http.post("/candidates", json={"name": "Ivan 2", "email": email})
        for email in ("ivan+2@mail.example", "IVAN+attempts@mail.example")
    ] + [
        hiring.http.post("/candidates", json={"name": "Olga 2", "email": email})
        for email in ("o.l.g.a.k@gmail.com", "olgak+1@googlemail.com")
    ]
    another = hiring.http.post("/candidates", json={"name": "I", "email": "i.van@mail.example"})

    assert (first.status_code, gmail.status_code) == (201, 201), (first.text, gmail.text)
    assert [r.status_code for r in again] == [409] * 4, [r.text for r in again]
    assert "another address of its mailbox" in again[0].json()["detail"]
    assert another.status_code == 201, another.text  # dots are part of a name elsewhere
    assert another.json()["email"] == "i.van@mail.example"  # the email is kept as given
    assert hiring.http.get("/candidates").json()["total"] == 3


def test_a_registration_racing_another_of_the_same_email_meets_the_unique_key(
    hiring: Hiring,
) -> None:
    """The check before the insert can miss a registration committing meanwhile: the unique
    key refuses it all the same, as the same 409 and not a 500."""
    hiring.add_exercise(answers=("x",))
    hiring.http.post("/candidates", json={"name": "Ivan", "email": "ivan@mail.example"})
    racing = Registration(str(uuid.uuid4()), "Ivan 2", "IVAN@mail.example", None, "candidate", ())

    with (
        pytest.raises(EmailAlreadyRegistered),
        UnitOfWork(hiring.runtime.engine, HiringRepository) as uow,
    ):
        uow.repo.add_candidate(racing, 1.0)  # as if email_registered had said no

    assert hiring.http.get("/candidates").json()["total"] == 1


def _register(hiring: Hiring, body: dict[str, str], key: str | None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    response: httpx.Response = hiring.http.post("/candidates", json=body, headers=headers)
    return response


def test_a_registration_sent_again_with_its_key_answers_the_first_one(hiring: Hiring) -> None:
    """The client whose answer was lost sends it again: the same candidate, the same
    exercises, a token naming them; nobody new, no second CandidateCreated."""
    hiring.add_exercise(answers=("x",))
    body = {"name": "Ivan", "email": "ivan@mail.example", "subject": "general"}
    first = _register(hiring, body, "key-1")
    hiring.add_exercise(answers=("y",))  # a replay answers what was assigned, not what is now
    again = _register(hiring, body | {"email": " ivan@mail.example "}, "key-1")

    assert first.status_code == again.status_code == 201, (first.text, again.text)
    token = again.json().pop("access_token")
    fresh = {"access_token": None, "refresh_token": None}  # new tokens: none is stored
    assert again.json()["refresh_token"] != first.json()["refresh_token"]
    assert {**first.json(), **fresh} == {**again.json(), **fresh}
    own = hiring.http.get(
        f"/candidates/{first.json()['id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert own.status_code == 200, own.text
    assert len(hiring.events("CandidateCreated")) == 1
    assert hiring.http.get("/candidates").json()["total"] == 1


def test_a_key_sent_again_with_another_body_is_refused_naming_the_header(hiring: Hiring) -> None:
    hiring.add_exercise(answers=("x",))
    first = _register(hiring, {"name": "Ivan", "email": "ivan@mail.example"}, "key-1")
    other_bodies = [
        {"name": "Ivan Petrov", "email": "ivan@mail.example"},
        {"name": "Ivan", "email": "olga@mail.example"},
        {"name": "Ivan", "email": "ivan@mail.example", "subject": "general"},
    ]
    refused = [_register(hiring, body, "key-1") for body in other_bodies]

    assert first.status_code == 201, first.text
    assert [r.status_code for r in refused] == [422, 422, 422], [r.text for r in refused]
    assert {r.json()["error"] for r in refused} == {"IdempotencyKeyReused"}
    assert all(r.json()["detail"].startswith("Idempotency-Key: ") for r in refused)
    assert {r.json()["field"] for r in refused} == {"Idempotency-Key"}
    assert hiring.http.get("/candidates").json()["total"] == 1  # nothing half-written
    assert len(hiring.events("CandidateCreated")) == 1


def test_the_same_email_again_without_the_key_or_with_another_is_a_second_registration(
    hiring: Hiring,
) -> None:
    """Without the first key, name and email prove nothing: 409, never the first token."""
    hiring.add_exercise(answers=("x",))
    body = {"name": "Ivan", "email": "ivan@mail.example"}
    assert _register(hiring, body, "key-1").status_code == 201
    again = [_register(hiring, body, None), _register(hiring, body, "key-2")]

    assert [r.status_code for r in again] == [409, 409], [r.text for r in again]
    assert all("access_token" not in r.json() for r in again)
    assert {r.json()["error"] for r in again} == {"EmailAlreadyRegistered"}


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_a_registration_key_out_of_bounds_is_refused_naming_the_header(
    hiring: Hiring, key: str
) -> None:
    hiring.add_exercise(answers=("x",))
    response = _register(hiring, {"name": "Ivan", "email": "ivan@mail.example"}, key)
    assert response.status_code == 422, response.text
    assert "idempotency-key" in response.text.lower()
    assert hiring.http.get("/candidates").json()["total"] == 0


def test_a_registration_racing_its_twin_with_the_same_key_answers_the_twins(
    hiring: Hiring,
) -> None:
    """Two copies of one request on two instances: the one that commits second finds the
    first's key behind the unique keys and answers its registration, adding nobody."""
    hiring.add_exercise(answers=("x",))
    body = {"name": "Ivan", "email": "ivan@mail.example"}
    first = _register(hiring, body, "key-1").json()
    cmd = RegisterCandidate(name="Ivan", email="ivan@mail.example", idempotency_key="key-1")
    racing = Registration(str(uuid.uuid4()), "Ivan", "ivan@mail.example", None, "candidate", ())

    with UnitOfWork(hiring.runtime.engine, HiringRepository) as uow:
        earlier = uow.repo.add_candidate(racing, 1.0, cmd)  # as if the key had not been there
        uow.commit()

    assert earlier is not None and earlier.id == first["id"]
    assert [e.exercise_id for e in earlier.exercises] == [
        e["exercise_id"] for e in first["exercises"]
    ]
    assert hiring.http.get("/candidates").json()["total"] == 1


def _limited_hiring(tmp_path: Path, address: str, **limits: int) -> TestClient:
    app = bootstrap(make_settings(tmp_path, **limits))
    return TestClient(app, headers=OPERATOR, client=(address, 5000))


def _body(n: int) -> dict[str, str]:
    return {"name": f"Ivan {n}", "email": f"ivan.{n}@mail.example"}


def test_registrations_from_one_address_are_limited_with_retry_after(tmp_path: Path) -> None:
    with _limited_hiring(tmp_path, "203.0.113.5", registrations_per_address=3) as http:
        Hiring(http.app, http).add_exercise(answers=("x",))  # type: ignore[arg-type]
        taken = [http.post("/candidates", json=_body(n)) for n in range(3)]
        refused = http.post("/candidates", json=_body(3))
        malformed = http.post("/candidates", json={"name": ""})  # refused before its body
        total = http.get("/candidates").json()["total"]

    assert [r.status_code for r in taken] == [201, 201, 201]
    assert refused.status_code == malformed.status_code == 429, refused.text
    assert refused.json()["error"] == "TooManyRegistrations"
    assert refused.json()["detail"].startswith(
        "registration: too many registrations from this address just now (at most 3 in 3600 "
    )
    assert 3590 <= int(refused.headers["Retry-After"]) <= 3600
    assert total == 3


def test_registrations_from_everyone_are_limited_and_the_machines_own_address_only_so(
    tmp_path: Path,
) -> None:
    """127.0.0.1 (the proxy's and the web pages' calls) is not counted per address."""
    settings = {"registrations_per_address": 1, "registrations_in_all": 4}
    with _limited_hiring(tmp_path, "127.0.0.1", **settings) as http:
        Hiring(http.app, http).add_exercise(answers=("x",))  # type: ignore[arg-type]
        answers = [http.post("/candidates", json=_body(n)).status_code for n in range(5)]
        refused = http.post("/candidates", json=_body(9))

    assert answers == [201, 201, 201, 201, 429]
    assert refused.json()["detail"].startswith(
        "registration: too many registrations on the platform just now (at most 4 in 60 "
    )
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
