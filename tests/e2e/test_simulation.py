"""The `simulate` command against the running platform: its summary, its money check, and
every record it leaves in the log valid as it is against its schema file."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from records_as_written import problems_of
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.runtime.processes import Platform
from teacher_hiring.runtime.transports import make_transport

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
    records = every_record(platform)
    assert {name for name, _ in records} >= {
        "ManagerCreated",
        "CandidateCreated",
        "BonusAdded",
        "ExerciseCompletedMoreThenTenTimes",
        "PaymentCommited",
    }, sorted({name for name, _ in records})
    # ExerciseCreated and ExerciseUpdated are pushed to hiring over HTTP in the default mode.
    refused = [problem for _, problems in records for problem in problems]
    counts = Counter(name for name, _ in records)
    print(f"{len(records)} records validated as they are, {len(refused)} refused:", dict(counts))
    assert refused == [], refused[:5]


def every_record(platform: Platform) -> list[tuple[str, list[str]]]:
    """Every record on the platform's topics: its event name and why an outside consumer
    validating it as it is would refuse it (records_as_written)."""
    deployment = platform.deployment
    transport = make_transport(
        deployment.event_log_url(),
        partitions=deployment.partitions,
        topic_prefix=deployment.topic_prefix,
    )
    found: list[tuple[str, list[str]]] = []
    try:
        for topic in SchemaRegistry.load().topics():
            starts = transport.start_offsets(topic)
            for partition, end in transport.end_offsets(topic).items():
                offset = starts.get(partition, 0)
                while offset < end:
                    batch = transport.read(topic, partition, offset, 500)
                    if not batch:
                        break
                    for record in batch:
                        name = record.headers.get("ce_type", "<no ce_type>")
                        found.append((name, problems_of(record.value, record.headers)))
                    offset = batch[-1].offset + 1
    finally:
        transport.close()
    return found
