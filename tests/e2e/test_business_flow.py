"""The whole business, across three processes that only talk over HTTP and the event log."""

from __future__ import annotations

import uuid

import pytest

from e2e.platform_api import Api, eventually

pytestmark = pytest.mark.e2e


def solve_all(api: Api, candidate: dict[str, object], answers: dict[str, str]) -> None:
    for exercise in candidate["exercises"]:  # type: ignore[attr-defined]
        response = api.submit(
            str(candidate["id"]),
            exercise["exercise_id"],
            exercise["version"],
            answers[exercise["exercise_id"]],
        )
        assert response.status_code == 200, response.text
        assert response.json()["correct"] is True


def test_a_candidate_who_solves_every_exercise_becomes_a_teacher(api: Api) -> None:
    author = api.manager()
    answers = {
        api.exercise(author, f"answer {i}", f"Exercise {i}"): f"answer {i}" for i in range(3)
    }
    api.hiring_knows(list(answers))
    candidate = api.candidate()
    assert candidate["status"] == "candidate"
    assert sorted(e["exercise_id"] for e in candidate["exercises"]) == sorted(answers)

    wrong = api.submit(candidate["id"], candidate["exercises"][0]["exercise_id"], 1, "no idea")
    assert wrong.status_code == 200 and wrong.json()["correct"] is False
    solve_all(api, candidate, answers)

    assert api.ok("GET", "hiring", f"/candidates/{candidate['id']}")["status"] == "teacher"
    eventually(
        lambda: any(
            c["candidate_id"] == candidate["id"] and c["status"] == "teacher"
            for c in api.ok("GET", "exercises", "/candidates")
        ),
        what="exercises' replica shows the new teacher",
    )
    eventually(lambda: len(api.entries(author)) == 3, what="three bonuses in the ledger")
    account = api.ledger(author)
    assert account["balance_cents"] == sum(e["amount_cents"] for e in api.entries(author))
    assert all(e["kind"] == "bonus" and e["amount_cents"] > 0 for e in api.entries(author))


def test_eleventh_completion_opens_one_assignment_and_the_new_version_replaces_the_old(
    api: Api,
) -> None:
    author = api.manager()
    exercise_id = api.exercise(author, "42", "The only exercise")
    api.hiring_knows([exercise_id])
    candidates = [api.candidate(f"Candidate {n}") for n in range(12)]
    for candidate in candidates:
        assert api.submit(candidate["id"], exercise_id, 1, "42").json()["correct"] is True

    assignments = eventually(
        lambda: api.ok("GET", "exercises", "/assignments", params={"status": "open"}),
        what="a complication assignment opened",
    )
    assert len(assignments) == 1
    assignment = assignments[0]
    assert assignment["exercise_id"] == exercise_id and assignment["assignee_id"] == author

    late = api.call("POST", "hiring", "/candidates", json={"name": "Late", "email": "l@x.example"})
    assert late.status_code == 409, "a leaked version is no longer assigned to new candidates"

    edit = {"editor_id": author, "statement": "Harder now", "accepted_answers": ["43"]}
    saved = api.ok("PUT", "exercises", f"/exercises/{exercise_id}", json=edit)
    assert saved["version"] == 2
    api.hiring_knows([exercise_id], version=2)

    newcomer = api.candidate("Newcomer")
    assert any(e["exercise_id"] == exercise_id and e["version"] == 2 for e in newcomer["exercises"])
    stale = api.submit(newcomer["id"], exercise_id, 1, "42")
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert api.submit(newcomer["id"], exercise_id, 2, "43").json()["correct"] is True

    closed = api.ok("GET", "exercises", f"/assignments/{assignment['id']}")
    assert closed["status"] == "closed"
    # 10 bonuses, fines for completions 11 and 12, one payment, one bonus for version 2
    kinds = eventually(
        lambda: (lambda e: e if len(e) == 14 else None)(api.entries(author)),
        what="14 ledger entries",
    )
    counts = {k: sum(1 for e in kinds if e["kind"] == k) for k in ("bonus", "fine", "payment")}
    assert counts == {"bonus": 11, "fine": 2, "payment": 1}
    assert len(api.ok("GET", "exercises", "/assignments")) == 1


def test_every_money_event_lands_in_the_ledger_exactly_once(api: Api) -> None:
    authors = [api.manager(f"Author {i}") for i in range(2)]
    answers = {}
    for i in range(4):
        answers[api.exercise(authors[i % 2], f"a{i}", f"E{i}")] = f"a{i}"
    api.hiring_knows(list(answers))
    for n in range(15):
        candidate = api.candidate(f"C{n}")
        for exercise in candidate["exercises"]:
            api.submit(candidate["id"], exercise["exercise_id"], exercise["version"], "wrong")
            api.submit(
                candidate["id"],
                exercise["exercise_id"],
                exercise["version"],
                answers[exercise["exercise_id"]],
            )

    def matches() -> bool:
        issued = api.ok("GET", "hiring", "/totals/issued")
        ledger = api.ok("GET", "bonus", "/ledger/totals")
        return normalise(issued, ("bonus_cents", "fine_cents")) == normalise(
            ledger, ("bonus_cents", "fine_cents")
        )

    eventually(matches, what="ledger totals equal what hiring issued")
    for author in authors:
        entries = api.entries(author)
        keys = [e["business_key"] for e in entries]
        assert len(keys) == len(set(keys))


def normalise(body: object, fields: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    rows = body if isinstance(body, list) else body.get("items", body)  # type: ignore[union-attr]
    if isinstance(rows, dict):
        rows = [{"manager_id": k, **v} for k, v in rows.items()]
    return {
        row["manager_id"]: tuple(int(row.get(f, 0)) for f in fields)
        for row in rows
        if any(int(row.get(f, 0)) for f in fields)
    }


def test_the_same_submission_sent_twice_changes_nothing(api: Api) -> None:
    author = api.manager()
    exercise_id = api.exercise(author, "yes")
    api.hiring_knows([exercise_id])
    candidate = api.candidate()
    key = str(uuid.uuid4())
    first = api.submit(candidate["id"], exercise_id, 1, "yes", key=key)
    again = api.submit(candidate["id"], exercise_id, 1, "yes", key=key)
    resolved = api.submit(candidate["id"], exercise_id, 1, "yes")
    assert first.status_code == again.status_code == resolved.status_code == 200
    assert again.json()["submission_id"] == first.json()["submission_id"]
    assert resolved.json()["submission_id"] == first.json()["submission_id"]
    assert again.json()["replayed"] is True
    eventually(lambda: len(api.entries(author)) == 1, what="one bonus")
    stats = api.ok("GET", "hiring", f"/exercises/{exercise_id}/stats")
    assert stats["versions"][-1]["completions"] == 1
