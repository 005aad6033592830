"""The leak report migrates from v0 to v1, then to v2, as the second document lists its steps,
on both deployments, and a v0 report read while hiring cannot answer is kept and applied later.

1. hiring produces v0 (HIRING_LEAK_EVENTS_VERSION=0), which names no exercise version;
2. v1 is in the registry, naming it;
3. exercises reads both: v1 as it is, v0 by asking hiring which version the named
   candidate's completion was of;
4-5. `teacher-hiring event-versions set leak 1` switches hiring at run time; reports of both
   versions wait in the log while exercises is stopped, and are read in order once it starts:
   each opens the assignment for the version that leaked; `set leak 2` then adds who completed
   the version (`completed_by`), read as it is;
6. with hiring stopped, a v0 report cannot be read: exercises retries it and keeps it with its
   dead letters; replayed once hiring is back, it opens its assignment. Nothing is lost.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from e2e.platform_api import Api, eventually
from teacher_hiring.cli import app
from teacher_hiring.runtime.processes import Platform

pytestmark = pytest.mark.e2e

SETTLE_S = 60.0  # on Kafka a restarted member waits for its partitions
GROUP = "exercises.exercise-completions"
LEAK = "ExerciseCompletedMoreThenTenTimes"


@pytest.fixture
def platform_env() -> dict[str, str]:
    """hiring starts at v0; the third completion of a version leaks it."""
    return {"HIRING_LEAK_EVENTS_VERSION": "0", "HIRING_COMPLETIONS_BEFORE_COMPLICATION": "2"}


def leak(api: Api, exercise_id: str, subject: str) -> None:
    """Three candidates of the exercise's subject solve it; the third leaks version 1."""
    for n in range(3):
        candidate = api.candidate(f"Solver {subject} {n}", subject=subject)
        assert api.submit(candidate["id"], exercise_id, 1, "ok").status_code == 200


def opened(api: Api) -> set[tuple[str, int]]:
    return {
        (a["exercise_id"], a["exercise_version"])
        for a in api.ok("GET", "exercises", "/assignments")
    }


def applied_by_version(api: Api) -> Counter[str]:
    found: Counter[str] = Counter()
    for family in text_string_to_metric_families(api.call("GET", "exercises", "/metrics").text):
        for sample in family.samples:
            if sample.name == "events_applied_by_version_total" and (
                sample.labels["consumer"] == GROUP
            ):
                found[sample.labels["event_version"]] += int(sample.value)
    return found


def leak_versions(api: Api) -> dict[str, int]:
    return {f["family"]: f["version"] for f in api.ok("GET", "hiring", "/operator/event-versions")}


def cli(platform: Platform, *args: str) -> Any:
    urls = ["--exercises-url", platform["exercises"].url, "--hiring-url", platform["hiring"].url]
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, [*args, *urls])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_leak_report_migrates_to_v1_then_v2_and_a_v0_report_waits_for_hiring(
    api: Api, platform: Platform
) -> None:
    author = api.manager()
    first, second, third, fourth = (
        api.exercise(author, "ok", f"Leaks {n}", subject=f"leak-{n}") for n in range(4)
    )
    api.hiring_knows([first, second, third, fourth])
    assert leak_versions(api) == {"leak": 0}

    # Steps 4 and 5: exercises stopped, a v0 report and, after the switch, a v1 report wait.
    platform["exercises"].stop()
    leak(api, first, "leak-0")
    assert "leak" in cli(platform, "event-versions", "set", "leak", "1")
    leak(api, second, "leak-1")
    shown = cli(platform, "event-versions", "show")  # exercises is down: hiring's family shown
    assert "leak" in shown and "v1" in shown
    platform["exercises"].start()
    platform["exercises"].wait_ready(60)
    eventually(
        lambda: opened(api) == {(first, 1), (second, 1)},
        what="both reports opened their version's assignment",
        timeout_s=SETTLE_S,
    )
    assert set(applied_by_version(api)) == {"0", "1"}
    assert "leak" in cli(platform, "event-versions", "set", "leak", "2")
    leak(api, fourth, "leak-3")
    eventually(
        lambda: (fourth, 1) in opened(api),
        what="the v2 report opened its version's assignment",
        timeout_s=SETTLE_S,
    )
    assert set(applied_by_version(api)) == {"0", "1", "2"}

    # Step 6: hiring away while a v0 report is read; it is kept, then replayed.
    api.ok("PUT", "hiring", "/operator/event-versions/leak", json={"version": 0})
    platform["exercises"].stop()
    leak(api, third, "leak-2")
    platform["hiring"].stop()
    platform["exercises"].start()
    platform["exercises"].wait_ready(60)

    def kept() -> Any:
        page = api.ok("GET", "exercises", "/operator/dead-letters", params={"group": GROUP})
        return [item for item in page["items"] if item["event_name"] == LEAK] or None

    [dead] = eventually(
        kept, what="the v0 report is kept with the dead letters", timeout_s=SETTLE_S
    )
    assert "hiring" in dead["error"]
    assert opened(api) == {(first, 1), (second, 1), (fourth, 1)}
    platform["hiring"].start()
    platform["hiring"].wait_ready(60)
    cli(
        platform,
        "dead-letters",
        "replay",
        "exercise-completions",
        "--service",
        "exercises",
        "--apply",
    )
    eventually(
        lambda: (third, 1) in opened(api),
        what="the replayed report opened its assignment",
        timeout_s=SETTLE_S,
    )
    assert opened(api) == {(first, 1), (second, 1), (third, 1), (fourth, 1)}
