"""A candidate's submission history: every stored verdict once, oldest first, no answers."""

from __future__ import annotations

import pytest

from integration.hiring.hiring_support import Hiring

pytestmark = pytest.mark.integration


def test_history_lists_each_stored_answer_once_with_its_verdict_and_no_answer(
    hiring: Hiring,
) -> None:
    exercise = hiring.add_exercise(answers=("secret answer",))
    candidate = hiring.register()
    wrong = hiring.submit(candidate["id"], exercise["exercise_id"], "a guess", key="k1").json()
    again = hiring.submit(candidate["id"], exercise["exercise_id"], "a guess", key="k1").json()
    right = hiring.submit(candidate["id"], exercise["exercise_id"], "secret answer").json()
    solved_again = hiring.submit(candidate["id"], exercise["exercise_id"], "secret answer").json()
    assert again["replayed"] and solved_again["replayed"]

    response = hiring.http.get(f"/candidates/{candidate['id']}/submissions")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["candidate_id"] == candidate["id"]
    assert [
        (item["submission_id"], item["correct"], item["attempt"]) for item in body["items"]
    ] == [(wrong["submission_id"], False, 1), (right["submission_id"], True, 2)]
    assert all(item["exercise_version"] == 1 for item in body["items"])
    assert "secret answer" not in response.text and "a guess" not in response.text


def test_history_of_an_unknown_candidate_is_404_naming_the_candidate(hiring: Hiring) -> None:
    response = hiring.http.get("/candidates/nobody/submissions")
    assert response.status_code == 404
    assert response.json()["error"] == "CandidateNotFound"
    assert "candidate_id" in response.json()["detail"]


def test_a_candidate_without_answers_has_an_empty_history(hiring: Hiring) -> None:
    hiring.add_exercise()
    candidate = hiring.register()
    response = hiring.http.get(f"/candidates/{candidate['id']}/submissions")
    assert response.status_code == 200
    assert response.json()["items"] == []
