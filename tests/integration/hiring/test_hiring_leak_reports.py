"""The leak report hiring produces: v1 names the leaked version, v0 (the seed's) does not, and
an operator switches between them at run time (`events.leak.version`). Whatever it produced,
hiring answers which version a candidate's completion was of, and whether it leaked, from
the records it made with the report: how exercises reads a v0 report without clocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.credentials import SERVICE
from integration.hiring.hiring_support import Hiring, HiringFactory, hiring_factory

pytestmark = pytest.mark.integration

LEAK = "ExerciseCompletedMoreThenTenTimes"


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


def test_a_new_deployment_reports_a_leak_naming_the_leaked_version(
    make_hiring: HiringFactory,
) -> None:
    hiring = make_hiring()
    exercise = hiring.add_exercise()
    second = hiring.new_version(exercise)
    solvers = leak(hiring, exercise["exercise_id"], version=2)

    [report] = hiring.events(LEAK)
    assert report["event_version"] == 1
    assert report["payload"] == {
        "exercise_id": exercise["exercise_id"],
        "exercise_version": second["version"],
        "title": exercise["title"],
        "author_id": exercise["author_id"],
        "candidate_id": solvers[-1],
    }


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
    assert (family["family"], family["version"], family["versions"]) == ("leak", 1, [0, 1])
    assert (family["events"], family["switched_at"]) == ([LEAK], None)

    switched = switch(hiring, "leak", 0)
    assert switched.status_code == 200 and switched.json()["switched_at"] is not None
    first, second = hiring.add_exercise(), hiring.add_exercise()
    leak(hiring, first["exercise_id"])
    assert switch(hiring, "leak", 1).status_code == 200
    leak(hiring, second["exercise_id"])

    reports = {e["payload"]["exercise_id"]: e["event_version"] for e in hiring.events(LEAK)}
    assert reports == {first["exercise_id"]: 0, second["exercise_id"]: 1}


def test_a_bad_family_is_404_and_a_bad_version_422_naming_the_field(
    make_hiring: HiringFactory,
) -> None:
    hiring = make_hiring()
    unknown = switch(hiring, "exercise", 1)  # exercises' family, not hiring's
    assert unknown.status_code == 404
    assert (unknown.json()["error"], unknown.json()["field"]) == ("UnknownEventFamily", "family")
    refused = switch(hiring, "leak", 2)
    assert refused.status_code == 422 and refused.json()["field"] == "version"
    assert refused.json()["detail"].startswith("version:")
    assert switch(hiring, "leak", "one").status_code == 422
