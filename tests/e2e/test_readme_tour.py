"""The README's first tour, its commands as written, on a fresh platform started as `make run`
starts it: pasted in one go, every step must succeed.

The block is read from README.md at test time, so the test follows the README: change a
command there and this test runs the new one. The platform listens on free ports and the
block's three addresses are rewritten to them, nothing else: the default ports 8701-8703 are
often taken where the tour matters most (a developer's own `make run`, the other test worker),
and a test that skipped or failed then would say nothing about the README.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from e2e.platform_api import free_port, running
from missing_part import missing
from teacher_hiring.runtime.processes import DEFAULT_PORTS, SERVICES, Deployment, Platform

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
TOUR_HEADING = "## A first tour over HTTP"
TOOLS = ("bash", "curl", "jq")
# After the block, in the same shell. The block is one `&&` list, which `set -e` does not stop
# the script for: its status is passed on, with the answers the failed call left behind. Then
# what the tour's variables hold, for the checks.
REPORT = """
tour=$?
if [ "$tour" -ne 0 ]; then
    printf 'answered: %s\\n' "${MANAGER-}" "${EXERCISE-}" "${CANDIDATE-}" >&2; exit "$tour"
fi
jq -n --arg manager "$MANAGER" --arg exercise "$EXERCISE" --arg candidate "$CANDIDATE" \\
    '{manager: $manager, exercise: $exercise, candidate: $candidate} | map_values(fromjson)' \\
    > "$TOUR_REPORT"
"""


def tour_block() -> str:
    """The first fenced bash block under the tour's heading in README.md."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    _, heading, after = readme.partition(TOUR_HEADING + "\n")
    assert heading, f"README.md has no section {TOUR_HEADING!r}"
    found = re.search(r"^```bash\n(.*?)^```", after, flags=re.MULTILINE | re.DOTALL)
    assert found, f"README.md has no bash block under {TOUR_HEADING!r}"
    return found.group(1)


def on_ports(block: str, ports: dict[str, int]) -> str:
    """The block with each service's default address replaced by the one it listens on."""
    for service in SERVICES:
        default = f"localhost:{DEFAULT_PORTS[service]}"
        assert default in block, f"the tour no longer calls {service} at {default}"
        block = block.replace(default, f"localhost:{ports[service]}")
    assert not re.search(r":87\d\d\b", block), f"an address the test does not rewrite:\n{block}"
    return block


def json_lines(output: str) -> list[Any]:
    """Every line of the output that is a JSON document, in order."""
    documents = []
    for line in output.splitlines():
        try:
            documents.append(json.loads(line))
        except ValueError:
            continue
    return documents


def test_the_readme_tour_pasted_in_one_go_succeeds_on_a_fresh_platform(tmp_path: Path) -> None:
    for tool in TOOLS:
        if shutil.which(tool) is None:
            missing(f"{tool}: not installed, and the README's tour runs it")
    if not (REPO / ".venv" / "bin" / "teacher-hiring").exists():
        missing(".venv/bin/teacher-hiring: not installed (make run creates it)")
    ports = {service: free_port() for service in SERVICES}
    deployment = Deployment(data_dir=tmp_path / "var", ports=ports)
    script = on_ports(tour_block(), ports) + REPORT
    report = tmp_path / "tour.json"
    env = {
        **os.environ,
        "TEACHER_HIRING_AUTH_SECRET": deployment.auth_secret,
        "TOUR_REPORT": str(report),
    }

    with running(Platform(deployment)):
        tour = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    ran = f"exit {tour.returncode}\n--- stdout\n{tour.stdout}\n--- stderr\n{tour.stderr}"
    assert tour.returncode == 0, ran
    told = json.loads(report.read_text())
    exercise, candidate = told["exercise"], told["candidate"]
    # Hiring had the exercise before its creation answered, not by luck of the log's timing.
    assert exercise.get("pushed") is True, ran
    assert str(candidate.get("access_token")).count(".") == 2, ran  # a JWT
    assert exercise["id"] in [e["exercise_id"] for e in candidate["exercises"]], ran
    printed = json_lines(tour.stdout)
    [submission] = [d for d in printed if isinstance(d, dict) and "correct" in d]
    assert submission["correct"] is True and submission["exercise_id"] == exercise["id"], ran
    [account] = [d for d in printed if isinstance(d, dict) and "bonus_count" in d]
    assert account["manager_id"] == told["manager"]["id"], ran
    assert account["bonus_count"] == 1 and account["balance_cents"] > 0, ran
    assert tour.stdout.rstrip().endswith("403"), ran  # the candidate may not read it
