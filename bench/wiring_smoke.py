"""Smoke check of the two wirings: the same platform, `before` (the old synchronous calls) and
`after` (events and replicas), a few hundred submissions each, with every service up and then
with bonus down. Not the benchmark (closed loop, one client, small numbers): a quick look that
the old wiring is wired, costs calls to exercises and fails when bonus is down.

For each wiring and state it prints the submissions made, how many failed (status >= 500),
latency p50/p95/p99 in ms, and the GET /exercises/{id} calls exercises received per 1,000
submissions (its `http_requests_total`). Exits non-zero if `after` failed any submission or
called exercises, or if `before` did not fail with bonus down.

    .venv/bin/python -m bench.wiring_smoke [--submissions 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from teacher_hiring.foundation.ports import free_port
from teacher_hiring.runtime.bearer import Bearer
from teacher_hiring.runtime.processes import SERVICES, Deployment, Platform
from teacher_hiring.runtime.tokens import Role, Tokens
from teacher_hiring.runtime.wiring import apply

CHECK_ROUTE = "/exercises/{exercise_id}"


def checks_received(client: httpx.Client, exercises_url: str) -> float:
    text = client.get(exercises_url + "/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "http_requests_total"
        and (sample.labels.get("method"), sample.labels.get("route")) == ("GET", CHECK_ROUTE)
    )


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def submit_many(
    client: httpx.Client, platform: Platform, answers: dict[str, str], count: int
) -> tuple[list[float], int]:
    """Register candidates and let each answer its exercises correctly until `count`."""
    hiring = platform["hiring"].url
    latencies: list[float] = []
    failed = n = 0
    while len(latencies) < count:
        n += 1
        body = {"name": f"Smoke {n}", "email": f"smoke.{n}.{time.time_ns()}@mail.example"}
        key = {"Idempotency-Key": f"smoke-{n}-{time.time_ns()}"}
        registered = client.post(hiring + "/candidates", json=body, headers=key)
        registered.raise_for_status()
        candidate = registered.json()
        own = {"Authorization": f"Bearer {candidate['access_token']}"}  # the candidate's token
        for exercise in candidate["exercises"]:
            submission = {
                "exercise_id": exercise["exercise_id"],
                "exercise_version": exercise["version"],
                "answer": answers[exercise["exercise_id"]],
            }
            started = time.perf_counter()
            response = client.post(
                f"{hiring}/candidates/{candidate['id']}/submissions", json=submission, headers=own
            )
            latencies.append((time.perf_counter() - started) * 1000)
            failed += response.status_code >= 500
    return latencies, failed


Row = tuple[str, int, int, float, float, float, float]
"""(wiring and state, submissions, 5xx, p50, p95, p99 ms, exercises' calls per 1,000)"""


def run(wiring: str, submissions: int) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="th-wiring-") as folder:
        deployment = Deployment(
            data_dir=Path(folder), ports={name: free_port() for name in SERVICES}, partitions=3
        )
        platform = Platform(deployment)
        platform.start()
        try:
            operator = Tokens(deployment.auth_secret).mint(Role.operator, "bench", 3600)
            client = httpx.Client(timeout=10, headers={"Authorization": f"Bearer {operator}"})
            apply(
                "before" if wiring == "before" else "after",
                {s: platform[s].url for s in ("exercises", "hiring")},
                auth=Bearer(lambda: operator),
            )
            needed = 2 * submissions // 10 + 6  # each exercise leaks at its 11th completion
            answers = create_exercises(client, platform, needed)
            for state in ("all up", "bonus down"):
                if state == "bonus down":
                    platform["bonus"].kill()
                rows.append(measure(client, platform, answers, submissions, f"{wiring}, {state}"))
            client.close()
        finally:
            platform.stop()
    return rows


def create_exercises(client: httpx.Client, platform: Platform, needed: int) -> dict[str, str]:
    """A manager's `needed` exercises, once hiring's replica holds them: {id: its answer}."""
    exercises = platform["exercises"].url
    manager = client.post(
        exercises + "/managers",
        json={
            "first_name": "Smoke",
            "last_name": "Author",
            "email": "smoke@school.example",
        },
    ).json()["id"]
    answers = {}
    for n in range(needed):
        body = {
            "author_id": manager,
            "title": f"E{n}",
            "statement": "?",
            "accepted_answers": [f"a{n}"],
        }
        answers[client.post(exercises + "/exercises", json=body).json()["id"]] = f"a{n}"
    while len(client.get(platform["hiring"].url + "/exercises").json()["items"]) < needed:
        time.sleep(0.05)
    return answers


def measure(
    client: httpx.Client, platform: Platform, answers: dict[str, str], count: int, name: str
) -> Row:
    """`count` submissions, and the calls exercises received meanwhile."""
    exercises = platform["exercises"].url
    calls_before = checks_received(client, exercises)
    latencies, failed = submit_many(client, platform, answers, count)
    calls = checks_received(client, exercises) - calls_before
    return (
        name,
        len(latencies),
        failed,
        statistics.median(latencies),
        percentile(latencies, 0.95),
        percentile(latencies, 0.99),
        1000 * calls / len(latencies),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=300)
    args = parser.parse_args()
    rows = run("before", args.submissions) + run("after", args.submissions)
    head = ("subm.", 7), ("5xx", 6), ("p50 ms", 9), ("p95 ms", 9), ("p99 ms", 9)
    print(f"{'wiring':<22}" + "".join(f"{h:>{w}}" for h, w in head) + f"{'ex. calls/1000':>16}")
    for name, count, failed, p50, p95, p99, calls in rows:
        print(f"{name:<22}{count:>7}{failed:>6}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}{calls:>16.0f}")
    after = [row for row in rows if row[0].startswith("after")]
    before_down = next(row for row in rows if row[0] == "before, bonus down")
    ok = all(row[2] == 0 and row[6] == 0 for row in after) and before_down[2] > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
