"""The leak report hiring produces: v2 names who completed the leaked version (who registered
each, and from where), v1 names the leaked version, v0 (the seed's) does not, and an operator
switches between them at run time (`events.leak.version`). Whatever it produced,
hiring answers which version a candidate's completion was of, and whether it leaked, from
the records it made with the report: how exercises reads a v0 report without clocks."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from integration.credentials import SERVICE, as_manager
from integration.hiring.hiring_support import Hiring, HiringFactory, hiring_factory
from teacher_hiring.runtime.origins import Origins

pytestmark = pytest.mark.integration

LEAK = "ExerciseCompletedMoreThenTenTimes"
ORIGINS = Origins(os.environ["TEACHER_HIRING_AUTH_SECRET"])


def register(hiring: Hiring, headers: dict[str, str]) -> str:
    """A candidate registered with these headers (in place of the operator's token)."""
    body = {"name": "Solver", "email": f"{uuid.uuid4().hex}@mail.example"}
    http = TestClient(hiring.app)  # no default Authorization
    response = http.post("/candidates", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def stored_origin(hiring: Hiring, candidate_id: str) -> str | None:
    query = sa.text("SELECT origin FROM candidates WHERE id = :c")
    with hiring.runtime.engine.connect() as conn:
        found: str | None = conn.execute(query, {"c": candidate_id}).scalar_one()
    return found


@pytest.fixture
def make_hiring(tmp_path: Path, database_url: str) -> Iterator[HiringFactory]:
    with hiring_factory(tmp_path, database_url) as make:
        yield make


def leak(hiring: Hiring, exercise_id: str, version: int = 1) -> list[str]:
    """Eleven candidates solve the version; the eleventh leaks it. Their ids, in order."""
    solvers = [hiring.register(f"Solver {version}-{n}")["id"] for n in range(11)]
    for candidate_id in solvers:
        hiring.solve(candidate_id, exercise_id, "42", version=version)
    return solvers


def completion(hiring: Hiring, exercise_id: str, candidate_id: str) -> Any:
    return hiring.http.get(f"/exercises/{exercise_id}/completions/{candidate_id}", headers=SERVICE)


def switch(hiring: Hiring, family: str, version: Any) -> Any:
    return hiring.http.put(f"/operator/event-versions/{family}", json={"version": version})


def test_a_new_deployment_reports_a_leak_naming_the_version_and_who_completed_it(
    make_hiring: HiringFactory,
) -> None:
    hiring = make_hiring()
    exercise = hiring.add_exercise()
    second = hiring.new_version(exercise)
    solvers = leak(hiring, exercise["exercise_id"], version=2)

    [report] = hiring.events(LEAK)
    assert report["event_version"] == 2
    assert report["payload"] == {
        "exercise_id": exercise["exercise_id"],
        "exercise_version": second["version"],
        "title": exercise["title"],
        "author_id": exercise["author_id"],
        "candidate_id": solvers[-1],
        "completed_by": [
            {"candidate_id": c, "registered_by": None, "origin": None} for c in solvers
        ],
    }


def test_the_report_names_the_manager_who_registered_each_solver_and_their_origin(
    make_hiring: HiringFactory,
) -> None:
    hiring = make_hiring()
    exercise = hiring.add_exercise()
    manager = str(uuid.uuid4())
    address = "203.0.113.7"
    theirs = [register(hiring, as_manager(manager)) for _ in range(4)]
    forwarded = [register(hiring, ORIGINS.forwarded(address, None)) for _ in range(3)]
    others = [hiring.register(f"Other {n}")["id"] for n in range(4)]
    late = hiring.register("Twelfth")["id"]
    solvers = theirs + forwarded + others
    for candidate_id in [*solvers, late]:  # the twelfth completion is not in the report
        hiring.solve(candidate_id, exercise["exercise_id"], "42")

    [report] = hiring.events(LEAK)
    origin = ORIGINS.of_address(address)
    assert report["payload"]["completed_by"] == [
        *({"candidate_id": c, "registered_by": manager, "origin": None} for c in theirs),
        *({"candidate_id": c, "registered_by": None, "origin": origin} for c in forwarded),
        *({"candidate_id": c, "registered_by": None, "origin": None} for c in others),
    ]


def test_an_erased_candidate_loses_their_origin(make_hiring: HiringFactory) -> None:
    hiring = make_hiring()
    hiring.add_exercise()
    candidate_id = register(hiring, ORIGINS.forwarded("203.0.113.7", None))
    assert stored_origin(hiring, candidate_id) == ORIGINS.of_address("203.0.113.7")

    erased = hiring.http.post(f"/operator/candidates/{candidate_id}/erase")

    assert erased.status_code == 200, erased.text
    assert stored_origin(hiring, candidate_id) is None


def test_a_registration_with_a_token_that_does_not_verify_is_refused(
    make_hiring: HiringFactory,
) -> None:
    hiring = make_hiring()
    hiring.add_exercise()
    body = {"name": "Ivan", "email": f"{uuid.uuid4().hex}@mail.example"}
    for authorization in ("Bearer not-a-token", "Basic abc"):
        response = hiring.http.post(
            "/candidates", json=body, headers={"Authorization": authorization}
        )
        assert response.status_code == 401, authorization
    assert hiring.count("candidates") == 0


def test_at_v0_the_report_is_the_seeds_and_hiring_tells_its_version_when_asked(
    make_hiring: HiringFactory,
) -> None:
    hiring = make_hiring(leak_events_version=0)
    exercise = hiring.add_exercise()
    exercise_id = exercise["exercise_id"]
    solvers = leak(hiring, exercise_id)
    hiring.new_version(exercise)  # the leaked version is replaced: hiring's answer stays
    late = hiring.register("Solver of version 2")["id"]
    hiring.solve(late, exercise_id, "42", version=2)

    [report] = hiring.events(LEAK)
    assert report["event_version"] == 0 and "exercise_version" not in report["payload"]
    named = report["payload"]["candidate_id"]
    assert named == solvers[-1]
    assert completion(hiring, exercise_id, named).json() == {
        "exercise_id": exercise_id,
        "candidate_id": named,
        "exercise_version": 1,
        "leaked": True,
    }
    assert completion(hiring, exercise_id, late).json()["exercise_version"] == 2
    assert completion(hiring, exercise_id, late).json()["leaked"] is False
    unsolved = completion(hiring, exercise_id, hiring.register("Not yet")["id"])
    assert unsolved.status_code == 404
    assert (unsolved.json()["error"], unsolved.json()["field"]) == (
        "CompletionNotFound",
        "candidate_id",
    )


def test_an_operator_switches_the_leak_report_at_run_time(make_hiring: HiringFactory) -> None:
    hiring = make_hiring()
    [family] = hiring.http.get("/operator/event-versions").json()
    assert (family["family"], family["version"], family["versions"]) == ("leak", 2, [0, 1, 2])
    assert (family["events"], family["switched_at"]) == ([LEAK], None)

    switched = switch(hiring, "leak", 0)
    assert switched.status_code == 200 and switched.json()["switched_at"] is not None
    first, second = hiring.add_exercise(), hiring.add_exercise()
    leak(hiring, first["exercise_id"])
    assert switch(hiring, "leak", 1).status_code == 200
    leak(hiring, second["exercise_id"])

    reports = {e["payload"]["exercise_id"]: e["event_version"] for e in hiring.events(LEAK)}
    assert reports == {first["exercise_id"]: 0, second["exercise_id"]: 1}
    assert "completed_by" not in hiring.events(LEAK)[-1]["payload"]


def test_a_bad_family_is_404_and_a_bad_version_422_naming_the_field(
    make_hiring: HiringFactory,
) -> None:
    hiring = make_hiring()
    unknown = switch(hiring, "exercise", 1)  # exercises' family, not hiring's
    assert unknown.status_code == 404
    assert (unknown.json()["error"], unknown.json()["field"]) == ("UnknownEventFamily", "family")
    refused = switch(hiring, "leak", 3)
    assert refused.status_code == 422 and refused.json()["field"] == "version"
    assert refused.json()["detail"].startswith("version:")
    assert switch(hiring, "leak", "one").status_code == 422
