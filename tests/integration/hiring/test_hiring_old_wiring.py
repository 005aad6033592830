"""hiring's links in sync mode, the old wiring: the submission calls bonus and exercises itself.

COMM-040/050: bonuses and fines are POSTed to bonus before the answer; COMM-030: the 11th
completion is reported to exercises the same way; COMM-020: the exercise is read from
exercises before checking. A failed call fails the submission (502, 503, 504 naming the
service); what was committed stays, and its event waits in the outbox for the relay.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from integration.bonus.bonus_support import closed_port
from integration.hiring.hiring_support import Hiring, HiringFactory, hiring_factory
from integration.link_stand_in import Answer, StandIn, stand_in
from teacher_hiring.messaging.tables import outbox

pytestmark = pytest.mark.integration

__all__ = ["stand_in"]

TIMEOUT_S = 0.3
MONEY = "/api/v0/money"
LEAK = "/api/complicate_exercise"


@pytest.fixture
def make_hiring(tmp_path: Path, database_url: str, stand_in: StandIn) -> Iterator[HiringFactory]:
    """hiring on a real database, with exercises and bonus at the stand-in unless told."""
    urls = {"exercises_url": stand_in.url, "bonus_url": stand_in.url}
    with hiring_factory(tmp_path, database_url, call_timeout_s=TIMEOUT_S, **urls) as make:
        yield make


def switch(hiring: Hiring, **modes: str) -> None:
    for link, mode in modes.items():
        response = hiring.http.put(f"/operator/links/{link.replace('_', '-')}", json={"mode": mode})
        assert response.status_code == 200, response.text


def sent_at(hiring: Hiring, event_id: str) -> float | None:
    query = sa.select(outbox.c.sent_at).where(outbox.c.event_id == event_id)
    with hiring.runtime.engine.connect() as conn:
        value: float | None = conn.execute(query).scalar_one()
    return value


def test_in_sync_mode_the_bonus_is_posted_to_bonus_before_the_submission_answers(
    make_hiring: HiringFactory, stand_in: StandIn
) -> None:
    hiring = make_hiring()
    switch(hiring, bonus_credit="sync")
    exercise = hiring.add_exercise()
    candidate = hiring.register()

    verdict = hiring.solve(candidate["id"], exercise["exercise_id"], "42")

    [bonus] = hiring.events("BonusAdded")
    assert stand_in.bodies(MONEY) == [bonus["payload"]]  # the event as its schema says
    assert stand_in.events(MONEY) == [bonus]  # and the rest in its ce- headers
    assert bonus["payload"]["submission_id"] == verdict["submission_id"]
    assert sent_at(hiring, bonus["event_id"]) is not None  # the relay will not send it again
    [rating] = hiring.events("TaskRatingChanged")
    assert sent_at(hiring, rating["event_id"]) is None  # still an event, left to the relay


ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""For failures raised before or after the transaction: the database plays no part in them
(the calls and the relay on PostgreSQL are tested above and below)."""


@ON_SQLITE
@pytest.mark.parametrize(
    ("failure", "status", "error"),
    [
        pytest.param(Answer(status=500), 502, "ReceiverRefused", id="bonus-answers-500"),
        pytest.param(Answer(delay_s=1.5), 504, "ReceiverTimedOut", id="bonus-too-slow"),
        pytest.param(None, 503, "ReceiverUnavailable", id="bonus-down"),
    ],
)
def test_when_bonus_fails_the_submission_fails_naming_bonus_and_its_verdict_is_kept(
    make_hiring: HiringFactory,
    stand_in: StandIn,
    failure: Answer | None,
    status: int,
    error: str,
) -> None:
    if failure is None:
        hiring = make_hiring(bonus_url=f"http://127.0.0.1:{closed_port()}")
    else:
        hiring = make_hiring()
        stand_in.answers[MONEY] = failure
    switch(hiring, bonus_credit="sync")
    exercise = hiring.add_exercise()
    candidate = hiring.register()

    response = hiring.submit(candidate["id"], exercise["exercise_id"], "42")

    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error and body["service"] == "bonus"
    assert body["detail"].startswith("bonus: ")
    assert "stored" in body["detail"] and "waits in the outbox of hiring" in body["detail"]
    # What the old system left behind: the verdict stands, the bonus is not credited yet.
    [bonus] = hiring.events("BonusAdded")
    assert body["submission_id"] == bonus["payload"]["submission_id"]
    assert sent_at(hiring, bonus["event_id"]) is None
    again = hiring.submit(candidate["id"], exercise["exercise_id"], "42")
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert len(hiring.events("BonusAdded")) == 1  # the retry issued nothing new


def test_the_relay_delivers_what_a_failed_call_left_once_the_requests_window_has_passed(
    make_hiring: HiringFactory, stand_in: StandIn
) -> None:
    hiring = make_hiring()
    switch(hiring, bonus_credit="sync")
    exercise = hiring.add_exercise()
    candidate = hiring.register()
    stand_in.answers[MONEY] = Answer(status=503)
    assert hiring.submit(candidate["id"], exercise["exercise_id"], "42").status_code == 502
    stand_in.answers.clear()
    [bonus] = hiring.events("BonusAdded")

    hiring.runtime.relay.run_once()
    assert sent_at(hiring, bonus["event_id"]) is None  # young: still its request's to send
    deadline = time.monotonic() + 15
    while sent_at(hiring, bonus["event_id"]) is None and time.monotonic() < deadline:
        hiring.runtime.relay.run_once()
        time.sleep(0.1)

    assert sent_at(hiring, bonus["event_id"]) is not None
    assert stand_in.events(MONEY) == [bonus, bonus]  # the failed call, then the relay's


def test_the_eleventh_completion_posts_its_fine_and_then_its_leak_report_in_sync_mode(
    make_hiring: HiringFactory, stand_in: StandIn
) -> None:
    hiring = make_hiring()
    switch(hiring, fine_debit="sync", complication="sync")
    exercise = hiring.add_exercise()
    for n in range(11):
        hiring.solve(hiring.register(f"Solver {n}")["id"], exercise["exercise_id"], "42")

    [fine] = hiring.events("FineAdded")
    [leak] = hiring.events("ExerciseCompletedMoreThenTenTimes")
    calls = [(path, body) for _, path, body in stand_in.received]
    assert calls == [
        (MONEY, fine["payload"]),
        (LEAK, {**leak["payload"], "event_id": leak["event_id"]}),
    ]
    assert stand_in.events(MONEY) == [fine]
    assert len(hiring.events("BonusAdded")) == 10  # bonuses stayed events
    assert sent_at(hiring, fine["event_id"]) and sent_at(hiring, leak["event_id"])


def exercise_at_exercises(payload: dict[str, Any], **changes: Any) -> Answer:
    """exercises' GET /exercises/{id} body for the exercise hiring replicated."""
    return Answer(
        body={
            "id": payload["exercise_id"],
            "title": payload["title"],
            "statement": payload["statement"],
            "accepted_answers": payload["accepted_answers"],
            "check_mode": payload["check_mode"],
            "subject": "general",
            "difficulty": 3,
            "author_id": payload["author_id"],
            "version": payload["version"],
            "status": "active",
            "created_at": payload["updated_at"],
            "updated_at": payload["updated_at"],
            **changes,
        }
    )


def test_in_sync_mode_the_answer_is_checked_with_the_answers_exercises_holds(
    make_hiring: HiringFactory, stand_in: StandIn
) -> None:
    hiring = make_hiring()
    switch(hiring, answer_check="sync")
    exercise = hiring.add_exercise(answers=("42",))
    path = f"/exercises/{exercise['exercise_id']}"
    stand_in.answers[path] = exercise_at_exercises(exercise, accepted_answers=["Forty Three"])
    candidate = hiring.register()

    wrong = hiring.submit(candidate["id"], exercise["exercise_id"], "42")
    right = hiring.submit(candidate["id"], exercise["exercise_id"], " forty  three ")

    assert wrong.status_code == 200 and wrong.json()["correct"] is False
    assert right.status_code == 200 and right.json()["correct"] is True
    assert [(method, at) for method, at, _ in stand_in.received] == [("GET", path)] * 2
    assert "Forty" not in wrong.text + right.text  # the answers never leave hiring

    stand_in.answers[path] = exercise_at_exercises(exercise, version=2)
    other = hiring.register("Late")
    stale = hiring.submit(other["id"], exercise["exercise_id"], "42")
    assert stale.status_code == 409 and stale.json()["current_version"] == 2


@ON_SQLITE
@pytest.mark.parametrize(
    ("exercises", "status", "starts"),
    [
        pytest.param("down", 503, "exercises: ", id="exercises-down"),
        pytest.param(Answer(status=404), 404, "exercise_id: ", id="unknown-at-exercises"),
    ],
)
def test_in_sync_mode_without_the_exercise_from_exercises_nothing_is_checked_or_stored(
    make_hiring: HiringFactory,
    stand_in: StandIn,
    exercises: str | Answer,
    status: int,
    starts: str,
) -> None:
    if isinstance(exercises, Answer):
        hiring = make_hiring()
    else:
        hiring = make_hiring(exercises_url=f"http://127.0.0.1:{closed_port()}")
    switch(hiring, answer_check="sync")
    exercise = hiring.add_exercise()
    if isinstance(exercises, Answer):
        stand_in.answers[f"/exercises/{exercise['exercise_id']}"] = exercises
    candidate = hiring.register()

    response = hiring.submit(candidate["id"], exercise["exercise_id"], "42")

    assert response.status_code == status, response.text
    assert response.json()["detail"].startswith(starts)
    assert hiring.count("submissions") == 0 and hiring.events("BonusAdded") == []
    switch(hiring, answer_check="replica")
    first = hiring.solve(candidate["id"], exercise["exercise_id"], "42")
    assert first["attempt"] == 1  # the failed one counted no attempt
