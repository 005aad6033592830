"""A leak report decides its exercise version by versions, never by the clocks of two hosts.

hiring and exercises run side by side with clocks that disagree by minutes (hiring's ahead of
exercises', then behind it), on SQLite and the embedded log: hiring served by uvicorn, so that
exercises asks it over HTTP which version a v0 report concerned. For both versions of
ExerciseCompletedMoreThenTenTimes:
- a genuine leak (version 2 of an exercise, current at both services) opens one assignment for
  version 2, whichever way the clocks disagree;
- a stale leak (version 1 of another exercise, solved more than ten times at hiring while its
  author was already saving version 2) opens nothing, for version 1 or any other.
Comparing hiring's `produced_at` with exercises' save time got one of the two wrong for each
direction of skew: behind, the genuine leak looked older than its version; ahead, the stale
one looked newer than the version that replaced it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from integration.credentials import OPERATOR, as_candidate
from integration.exercises.exercises_support import Service
from integration.http_server import serving
from teacher_hiring.exercises.bootstrap import bootstrap as exercises_app
from teacher_hiring.exercises.entrypoints.consumers import COMPLETIONS_GROUP
from teacher_hiring.exercises.settings import ExercisesSettings
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.foundation.time import ShiftedClock, epoch_seconds
from teacher_hiring.hiring.bootstrap import bootstrap as hiring_app
from teacher_hiring.hiring.service_layer.handlers import EXERCISE_FEED
from teacher_hiring.hiring.settings import HiringSettings
from teacher_hiring.messaging.tables import outbox
from teacher_hiring.runtime.service import ServiceRuntime

pytestmark = pytest.mark.integration

SKEW_S = 5 * 60
LEAK = "ExerciseCompletedMoreThenTenTimes"


@dataclass
class Platform:
    exercises: Service
    hiring: httpx.Client
    hiring_runtime: ServiceRuntime
    _started: bool = field(default=False)

    def to_hiring(self) -> None:
        """exercises' events reach hiring's replica through the log."""
        self.exercises.runtime.relay.run_once()
        runner = next(r for r in self.hiring_runtime.runners if r.group == EXERCISE_FEED)
        if not self._started:
            runner.start()
            self._started = True
        while runner.run_once() > 0:
            pass

    def to_exercises(self) -> int:
        """hiring's leak reports reach exercises through the log; how many were read."""
        self.hiring_runtime.relay.run_once()
        return self.exercises.consume(COMPLETIONS_GROUP)

    def solve(self, candidate: dict[str, Any], exercise_id: str, version: int) -> None:
        response = self.hiring.post(
            f"/candidates/{candidate['id']}/submissions",
            json={"exercise_id": exercise_id, "exercise_version": version, "answer": "5"},
            headers=as_candidate(candidate["id"]),
        )
        assert response.status_code == 200 and response.json()["correct"], response.text

    def hiring_events(self, name: str) -> list[dict[str, Any]]:
        """What hiring staged of one event, in order."""
        query = sa.select(outbox.c.body).where(outbox.c.event_name == name).order_by(outbox.c.id)
        with self.hiring_runtime.engine.connect() as conn:
            return [orjson.loads(body) for body in conn.execute(query).scalars()]

    def register(self, count: int) -> list[dict[str, Any]]:
        registered = []
        for n in range(count):
            body = {"name": f"Candidate {n}", "email": f"candidate{n}@mail.example"}
            response = self.hiring.post("/candidates", json=body)
            assert response.status_code == 201, response.text
            registered.append(response.json())
        return registered


@pytest.fixture(params=[SKEW_S, -SKEW_S], ids=["hiring-ahead", "hiring-behind"])
def hiring_offset_s(request: pytest.FixtureRequest) -> float:
    return float(request.param)


@pytest.fixture(params=[0, 1], ids=["v0", "v1"])
def leak_version(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def platform(tmp_path: Path, hiring_offset_s: float, leak_version: int) -> Iterator[Platform]:
    log = f"sqlite:///{tmp_path}/events.db"
    common: dict[str, Any] = {"event_log_url": log, "run_workers": False, "log_format": "console"}
    hiring = hiring_app(
        HiringSettings(
            database_url=f"sqlite:///{tmp_path}/hiring.db",
            leak_events_version=leak_version,
            **common,
        ),
        clock=ShiftedClock(hiring_offset_s),
    )
    with serving(hiring, free_port()) as hiring_url:
        exercises = exercises_app(
            ExercisesSettings(
                database_url=f"sqlite:///{tmp_path}/exercises.db",
                exercise_updates_link="event",
                hiring_url=hiring_url,
                **common,
            ),
            clock=ShiftedClock(0.0),
        )
        with (
            TestClient(exercises, headers=OPERATOR) as exercises_client,
            httpx.Client(base_url=hiring_url, headers=OPERATOR, timeout=10) as hiring_client,
        ):
            running = Service(exercises_client)
            try:
                yield Platform(running, hiring_client, hiring.state.runtime)
            finally:
                running.close()
                for runner in hiring.state.runtime.runners:
                    runner.close()


def test_a_leak_is_decided_by_its_version_whichever_way_the_clocks_disagree(
    platform: Platform, leak_version: int, hiring_offset_s: float
) -> None:
    exercises = platform.exercises
    anna = exercises.manager()
    genuine = exercises.exercise(anna, title="Genuine")
    exercises.edit(genuine, anna, statement="Version 2, the one that will leak")
    stale = exercises.exercise(anna, title="Stale")
    platform.to_hiring()

    candidates = platform.register(11)
    for candidate in candidates:
        platform.solve(candidate, genuine, version=2)
        platform.solve(candidate, stale, version=1)
    exercises.edit(stale, anna, statement="Complicated before the report was read")
    assert platform.to_exercises() == 2

    reports = {e["payload"]["exercise_id"]: e for e in platform.hiring_events(LEAK)}
    assert [e["event_version"] for e in reports.values()] == [leak_version] * 2
    opened = [(a["exercise_id"], a["exercise_version"]) for a in exercises.assignments()]
    assert opened == [(genuine, 2)]
    assert exercises.ok("GET", f"/exercises/{genuine}")["status"] == "needs_complication"
    assert exercises.ok("GET", f"/exercises/{stale}")["status"] == "active"

    # What the two clocks said, which a rule comparing them would have believed.
    saved = {
        e: epoch_seconds(exercises.ok("GET", f"/exercises/{e}")["updated_at"]) for e in reports
    }
    produced = {e: epoch_seconds(report["produced_at"]) for e, report in reports.items()}
    if hiring_offset_s < 0:
        assert produced[genuine] < saved[genuine]  # "produced before version 2": stale
    else:
        assert produced[stale] > saved[stale]  # "produced after version 2": version 2 leaked
