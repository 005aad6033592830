"""Erasing a candidate in hiring: name, email and answers gone from every table, the key that
sealed their name in events deleted, CandidateErased published, money records untouched."""

from __future__ import annotations

import orjson
import pytest
import sqlalchemy as sa

from integration.credentials import as_candidate
from integration.hiring.hiring_support import Hiring
from personal_data import found_in_database
from teacher_hiring.foundation.sealing import CannotOpen, is_sealed, open_sealed

pytestmark = pytest.mark.integration

NAME = "Zinaida Personova"
EMAIL = "zinaida.personova@mail.example"
ANSWER = "forty-two-secret"
RIGHT = "  FORTY-two-Secret "  # her correct answer as she typed it (checked normalized)
WRONG = "a wrong guess of hers"


def _key(hiring: Hiring, candidate_id: str) -> bytes | None:
    query = sa.text("SELECT key FROM person_keys WHERE candidate_id = :c")
    with hiring.runtime.engine.connect() as conn:
        found = conn.execute(query, {"c": candidate_id}).scalar_one_or_none()
    return None if found is None else bytes(found)


def _registered_with_answers(hiring: Hiring) -> tuple[str, str]:
    exercise = hiring.add_exercise(answers=(ANSWER,))["exercise_id"]
    for other in range(2):
        hiring.add_exercise(answers=(f"other-{other}",))
    candidate = hiring.register(NAME)
    assert hiring.submit(candidate["id"], exercise, WRONG).json()["correct"] is False
    hiring.solve(candidate["id"], exercise, RIGHT)
    return candidate["id"], exercise


def test_a_candidates_name_leaves_hiring_only_sealed_under_their_own_key(hiring: Hiring) -> None:
    candidate_id, _ = _registered_with_answers(hiring)
    sealed = hiring.events("CandidateCreated")[0]["payload"]["candidate_name"]
    assert is_sealed(sealed) and NAME not in sealed
    assert hiring.opened_name(candidate_id, sealed) == NAME


def test_erasing_a_candidate_leaves_no_personal_field_in_hiring(hiring: Hiring) -> None:
    candidate_id, exercise = _registered_with_answers(hiring)
    issued_before = hiring.http.get("/totals/issued").json()
    sealed = hiring.events("CandidateCreated")[0]["payload"]["candidate_name"]
    key = _key(hiring, candidate_id)
    assert key is not None

    response = hiring.http.post(f"/operator/candidates/{candidate_id}/erase")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["candidate_id"] == candidate_id
    assert body["already"] is False and body["answers_erased"] == 2
    assert found_in_database(hiring.runtime.engine, [NAME, EMAIL, RIGHT, WRONG]) == []
    assert _key(hiring, candidate_id) is None
    erased = hiring.events("CandidateErased")
    assert [e["payload"] for e in erased] == [
        {"candidate_id": candidate_id, "erased_at": body["erased_at"]}
    ]
    shown = hiring.http.get(f"/candidates/{candidate_id}").json()
    assert shown["name"] == "(erased)" and EMAIL not in shown["email"]
    assert hiring.http.get("/totals/issued").json() == issued_before
    # The event as the log keeps it: without the key no one opens it, hiring included.
    with pytest.raises(CannotOpen):
        open_sealed(_key(hiring, candidate_id) or b"\0" * 32, candidate_id, sealed)
    # An erased candidate submits nothing more.
    assert hiring.submit(candidate_id, exercise, ANSWER).status_code == 404


def test_erasing_again_changes_nothing_and_says_when(hiring: Hiring) -> None:
    candidate_id, _ = _registered_with_answers(hiring)
    first = hiring.http.post(f"/operator/candidates/{candidate_id}/erase").json()
    again = hiring.http.post(f"/operator/candidates/{candidate_id}/erase")
    assert again.status_code == 200
    assert again.json() == {**first, "already": True, "answers_erased": 0}
    assert len(hiring.events("CandidateErased")) == 1


def test_erasing_is_for_operators_and_names_an_unknown_candidate(hiring: Hiring) -> None:
    candidate_id, _ = _registered_with_answers(hiring)
    path = f"/operator/candidates/{candidate_id}/erase"
    assert hiring.http.post(path, headers=as_candidate(candidate_id)).status_code == 403
    assert hiring.http.post(path, headers={"Authorization": ""}).status_code == 401
    missing = hiring.http.post("/operator/candidates/nobody/erase")
    assert missing.status_code == 404 and "candidate_id" in missing.text
    assert found_in_database(hiring.runtime.engine, [NAME]) != []


def test_an_event_staged_before_names_were_sealed_loses_the_name_in_the_outbox(
    hiring: Hiring,
) -> None:
    candidate_id, _ = _registered_with_answers(hiring)
    clear = sa.text("UPDATE outbox SET body = :body WHERE event_name = 'CandidateCreated'")
    created = hiring.events("CandidateCreated")[0]
    created["payload"]["candidate_name"] = NAME
    with hiring.runtime.engine.begin() as conn:
        conn.execute(clear, {"body": orjson.dumps(created)})
    hiring.http.post(f"/operator/candidates/{candidate_id}/erase")
    assert hiring.events("CandidateCreated")[0]["payload"]["candidate_name"] == "(erased)"
    assert found_in_database(hiring.runtime.engine, [NAME]) == []
