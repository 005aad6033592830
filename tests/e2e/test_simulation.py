"""The `simulate` command against the running platform: its summary and its money check."""

from __future__ import annotations

import subprocess
import sys

import pytest

from teacher_hiring.runtime.processes import Platform

pytestmark = pytest.mark.e2e


def test_simulated_candidates_and_managers_leave_a_ledger_that_matches_what_was_issued(
    platform: Platform,
) -> None:
    command = [
        sys.executable,
        "-m",
        "teacher_hiring.cli",
        "simulate",
        "--candidates",
        "40",
        "--managers",
        "2",
        "--exercises",
        "3",
        "--concurrency",
        "4",
        "--seed",
        "7",
        "--exercises-url",
        platform["exercises"].url,
        "--hiring-url",
        platform["hiring"].url,
        "--bonus-url",
        platform["bonus"].url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bonus ledger vs issued money: matches" in result.stdout
    assert "exercises complicated" in result.stdout, "40 candidates on 3 exercises must leak some"
