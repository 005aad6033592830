"""Submitting answers: verdicts, refusals in their order, replays, ratings, bonuses and fines."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from event_examples import MANAGER_ID

from integration.credentials import as_candidate
from integration.hiring.hiring_support import Hiring
from teacher_hiring.hiring.domain import commands
from teacher_hiring.hiring.service_layer import handlers
from teacher_hiring.hiring.service_layer.results import SubmissionVerdict

pytestmark = pytest.mark.integration


def test_unknown_candidate_then_unknown_exercise_then_not_assigned(hiring: Hiring) -> None:
    mine = hiring.add_exercise(answers=("a",))
    candidate = hiring.register()
    other = hiring.add_exercise(answers=("b",))  # arrives after the candidate was assigned

    nobody = hiring.submit("nobody", "no-exercise", "a")
    assert (nobody.status_code, nobody.json()["error"]) == (404, "CandidateNotFound")
    unknown = hiring.submit(candidate["id"], "no-exercise", "a")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "ExerciseNotFound")
    foreign = hiring.submit(candidate["id"], other["exercise_id"], "b")
    assert (foreign.status_code, foreign.json()["error"]) == (403, "ExerciseNotAssigned")
    assert hiring.count("submissions") == 0
    assert hiring.submit(candidate["id"], mine["exercise_id"], "a").status_code == 200


def test_normalized_and_exact_checking(hiring: Hiring) -> None:
    loose = hiring.add_exercise(answers=("Hello  World",), check_mode="normalized")
    strict = hiring.add_exercise(answers=("Hello World",), check_mode="exact")
    candidate = hiring.register()
    assert (
        hiring.submit(candidate["id"], strict["exercise_id"], "hello world").json()["correct"]
        is False
    )
    assert (
        hiring.submit(candidate["id"], strict["exercise_id"], "Hello World").json()["correct"]
        is True
    )
    verdict = hiring.submit(candidate["id"], loose["exercise_id"], "  HELLO \t\n world ").json()
    assert verdict["correct"] is True


def test_answer_of_10001_characters_is_refused_naming_answer(hiring: Hiring) -> None:
    exercise = hiring.add_exercise()
    candidate = hiring.register()
    response = hiring.submit(candidate["id"], exercise["exercise_id"], "x" * 10_001)
    assert response.status_code == 422
    assert response.json()["field"] == "answer" and "answer" in response.json()["detail"]
    assert hiring.count("submissions") == 0
    assert hiring.submit(candidate["id"], exercise["exercise_id"], "x" * 10_000).status_code == 200


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Idempotency-Key": "k" * 201}, {"exercise_id": "e", "exercise_version": 1, "answer": ""}),
        ({}, {"exercise_id": "e", "exercise_version": 0, "answer": ""}),
        ({}, {"exercise_id": "e", "answer": ""}),
    ],
)
def test_malformed_submissions_are_422(
    hiring: Hiring, headers: dict[str, str], body: dict[str, object]
) -> None:
    response = hiring.http.post(
        "/candidates/c/submissions", json=body, headers=as_candidate("c") | headers
    )
    assert response.status_code == 422


def test_sixth_attempt_at_a_version_is_429(hiring: Hiring) -> None:
    exercise = hiring.add_exercise()
    candidate = hiring.register()
    lefts = [
        hiring.submit(candidate["id"], exercise["exercise_id"], f"wrong {n}").json()[
            "attempts_left"
        ]
        for n in range(5)
    ]
    assert lefts == [4, 3, 2, 1, 0]
    sixth = hiring.submit(candidate["id"], exercise["exercise_id"], "42")
    assert sixth.status_code == 429
    assert sixth.json()["error"] == "AttemptLimitReached"
    assert hiring.count("submissions") == 5


def test_a_new_version_gives_fresh_attempts(hiring: Hiring) -> None:
    exercise = hiring.add_exercise()
    candidate = hiring.register()
    for n in range(5):
        hiring.submit(candidate["id"], exercise["exercise_id"], f"wrong {n}")
    hiring.new_version(exercise, accepted_answers=["43"])
    verdict = hiring.submit(candidate["id"], exercise["exercise_id"], "43", version=2).json()
    assert verdict["correct"] is True and verdict["attempt"] == 1


def test_stale_version_is_409_with_the_current_version(hiring: Hiring) -> None:
    exercise = hiring.add_exercise()
    candidate = hiring.register()
    hiring.new_version(exercise, accepted_answers=["43"])

    stale = hiring.submit(candidate["id"], exercise["exercise_id"], "42", version=1)
    assert stale.status_code == 409
    assert stale.json()["error"] == "StaleExerciseVersion"
    assert stale.json()["current_version"] == 2
    assert "retry-after" not in stale.headers  # replaced for good
    future = hiring.submit(candidate["id"], exercise["exercise_id"], "42", version=3)
    assert (future.status_code, future.json()["current_version"]) == (409, 2)
    assert future.headers["retry-after"] == "1"  # on its way to hiring
    assert hiring.count("submissions") == 0
    assert hiring.stats(exercise["exercise_id"])["versions"][0]["attempted_candidates"] == 0


def test_same_idempotency_key_twice_changes_nothing(hiring: Hiring) -> None:
    exercise = hiring.add_exercise()
    candidate = hiring.register()
    key = str(uuid.uuid4())
    first = hiring.submit(candidate["id"], exercise["exercise_id"], "wrong", key=key)
    outbox, submissions = hiring.count("outbox"), hiring.count("submissions")

    again = hiring.submit(candidate["id"], exercise["exercise_id"], "42", key=key)
    assert again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}
    assert (hiring.count("outbox"), hiring.count("submissions")) == (outbox, submissions)
    assert hiring.stats(exercise["exercise_id"])["versions"][0]["completions"] == 0


def test_resolving_a_solved_exercise_returns_the_first_verdict(hiring: Hiring) -> None:
    exercise = hiring.add_exercise()
    candidate = hiring.register()
    first = hiring.solve(candidate["id"], exercise["exercise_id"], "42")
    outbox, submissions = hiring.count("outbox"), hiring.count("submissions")

    for answer in ("42", "wrong"):
        again = hiring.submit(candidate["id"], exercise["exercise_id"], answer, key=answer)
        assert again.status_code == 200
        assert again.json() == {**first, "replayed": True}
    assert (hiring.count("outbox"), hiring.count("submissions")) == (outbox, submissions)
    assert len(hiring.events("BonusAdded")) == 1


def test_bonus_carries_the_rating_of_the_same_transaction(hiring: Hiring) -> None:
    exercise = hiring.add_exercise()
    failing, succeeding = hiring.register("Failing"), hiring.register("Succeeding")
    hiring.submit(failing["id"], exercise["exercise_id"], "wrong")  # rating 100
    hiring.solve(failing["id"], exercise["exercise_id"], "42")
    solved = hiring.solve(succeeding["id"], exercise["exercise_id"], "42")  # rating 50

    ratings = hiring.events("TaskRatingChanged")
    assert [(r["payload"]["rating"], r["payload"]["rating_version"]) for r in ratings] == [
        (100, 1),
        (50, 2),
    ]
    bonuses = [b["payload"] for b in hiring.events("BonusAdded")]
    assert [(b["amount_cents"], b["rating"], b["rating_version"]) for b in bonuses] == [
        (2000, 100, 1),
        (1500, 50, 2),
    ]
    assert bonuses[1]["submission_id"] == solved["submission_id"]
    assert bonuses[1]["completion_number"] == 2 and bonuses[1]["manager_id"] == MANAGER_ID


def test_first_attempt_defines_the_rating_even_when_it_stays_zero(hiring: Hiring) -> None:
    exercise = hiring.add_exercise()
    for n in range(2):
        candidate = hiring.register(f"Candidate {n}")
        hiring.solve(candidate["id"], exercise["exercise_id"], "42")
    ratings = [r["payload"] for r in hiring.events("TaskRatingChanged")]
    assert [(r["rating"], r["rating_version"], r["attempted_candidates"]) for r in ratings] == [
        (0, 1, 1)
    ]


def test_eleventh_completion_leaks_the_version_once_and_fines_from_then_on(
    hiring: Hiring,
) -> None:
    exercise = hiring.add_exercise()
    spare = hiring.add_exercise(answers=("spare",))
    spare2 = hiring.add_exercise(answers=("spare",))
    # All registered before the leak: a leaked version is no longer assigned to anyone new.
    candidates = [hiring.register(f"Candidate {n}")["id"] for n in range(12)]
    for candidate_id in candidates:
        hiring.solve(candidate_id, exercise["exercise_id"], "42")

    bonuses = [e["payload"]["completion_number"] for e in hiring.events("BonusAdded")]
    fines = [e["payload"] for e in hiring.events("FineAdded")]
    assert bonuses == list(range(1, 11))
    assert [f["completion_number"] for f in fines] == [11, 12]
    assert all(f["amount_cents"] == 500 for f in fines)
    assert fines[1]["reason"] == "leaked exercise solved: completion 12 of version 1"
    (leaked,) = hiring.events("ExerciseCompletedMoreThenTenTimes")
    assert leaked["payload"]["exercise_id"] == exercise["exercise_id"]
    assert leaked["payload"]["author_id"] == MANAGER_ID
    assert hiring.stats(exercise["exercise_id"])["versions"][0]["needs_complication"] is True

    late = hiring.register("Late cheater")
    assert {e["exercise_id"] for e in late["exercises"]} == {
        spare["exercise_id"],
        spare2["exercise_id"],
    }
    totals = hiring.http.get("/totals/issued").json()["items"]
    bonus_sum = sum(e["payload"]["amount_cents"] for e in hiring.events("BonusAdded"))
    assert totals == [
        {
            "manager_id": MANAGER_ID,
            "bonus_cents": bonus_sum,
            "fine_cents": 1000,
            "bonus_count": 10,
            "fine_count": 2,
        }
    ]


def test_complicated_version_starts_fresh_and_pays_bonuses_again(hiring: Hiring) -> None:
    exercise = hiring.add_exercise()
    for n in range(11):
        hiring.solve(hiring.register(f"Candidate {n}")["id"], exercise["exercise_id"], "42")
    hiring.new_version(exercise, accepted_answers=["43"])

    newcomer = hiring.register("Newcomer")
    assert newcomer["exercises"][0]["version"] == 2
    hiring.solve(newcomer["id"], exercise["exercise_id"], "43", version=2)
    stats = hiring.stats(exercise["exercise_id"])
    assert stats["current_version"] == 2
    assert [
        (v["version"], v["completions"], v["needs_complication"]) for v in stats["versions"]
    ] == [
        (1, 11, True),
        (2, 1, False),
    ]
    last_bonus = hiring.events("BonusAdded")[-1]["payload"]
    assert (last_bonus["exercise_version"], last_bonus["completion_number"]) == (2, 1)


def test_rating_version_strictly_increases_across_versions(hiring: Hiring) -> None:
    exercise = hiring.add_exercise()
    for n in range(4):
        candidate = hiring.register(f"v1 {n}")
        answer = "42" if n % 2 else "wrong"
        hiring.submit(candidate["id"], exercise["exercise_id"], answer)
    hiring.new_version(exercise, accepted_answers=["43"])
    for n in range(3):
        candidate = hiring.register(f"v2 {n}")
        hiring.submit(candidate["id"], exercise["exercise_id"], "43" if n else "no", version=2)

    ratings = [r["payload"] for r in hiring.events("TaskRatingChanged")]
    versions = [r["rating_version"] for r in ratings]
    assert versions == sorted(set(versions)) == list(range(1, len(versions) + 1))
    assert [r["exercise_version"] for r in ratings][-1] == 2
    assert hiring.stats(exercise["exercise_id"])["rating_version"] == versions[-1]


def test_concurrent_duplicates_store_one_submission_and_one_completion(hiring: Hiring) -> None:
    exercise = hiring.add_exercise()
    candidate = hiring.register()
    context = hiring.app.state.hiring

    def send(key: str) -> SubmissionVerdict:
        cmd = commands.SubmitAnswer(candidate["id"], exercise["exercise_id"], 1, "42", key)
        return handlers.submit_answer(cmd, context.uow(), context.rules, versions=context.produced)

    with ThreadPoolExecutor(max_workers=8) as pool:
        same_key = list(pool.map(send, ["same"] * 8))
        other_keys = list(pool.map(send, [f"key {n}" for n in range(8)]))

    assert len({r.submission_id for r in same_key + other_keys}) == 1
    assert sum(not r.replayed for r in same_key + other_keys) == 1
    assert hiring.count("submissions") == 1
    assert len(hiring.events("BonusAdded")) == 1
    assert hiring.stats(exercise["exercise_id"])["versions"][0]["completions"] == 1
