"""The distributed deployment as `teacher-hiring run --distributed` runs it: two instances of
every service on Kafka and PostgreSQL, each service behind one address (the proxy). Every one
of the six instances is killed in turn (SIGKILL, then started again) while simulated users
work through the proxy, and nothing is lost or doubled: every submission answered 2xx is
stored in hiring, and the bonus ledger holds exactly the money hiring and exercises issued.

The run is the chaos run's (teacher_hiring.chaos) with kills only, on a schedule that covers
each instance, and its checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from e2e.platform_api import on_kafka_and_postgres, running
from teacher_hiring.chaos.report import figures, print_report
from teacher_hiring.chaos.run import ChaosConfig, ChaosRun
from teacher_hiring.chaos.schedule import Fault, Kind
from teacher_hiring.runtime.processes import (
    DISTRIBUTED_INSTANCES,
    SERVICES,
    Deployment,
    Platform,
    free_instance_ports,
    free_port,
)

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres]

IN_TURN = ["hiring-2", "exercises", "bonus-2", "hiring", "exercises-2", "bonus"]
"""Every instance once, the services by turns: each keeps one instance up at any time."""
FIRST_KILL_S = 3.0
BETWEEN_KILLS_S = 4.0
SESSION_TIMEOUT_MS = 6000  # the broker's least: a dead member's partitions move sooner
CONFIG = ChaosConfig(
    seconds=FIRST_KILL_S + BETWEEN_KILLS_S * len(IN_TURN),
    kill_interval_s=0,
    duplicate_interval_s=0,
    poison_interval_s=0,
    outage_interval_s=0,
    broker_kill_interval_s=0,
    concurrency=3,
    settle_timeout_s=90,
)


@pytest.fixture
def scaled_out(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    deployment = Deployment(
        data_dir=tmp_path / "var",
        ports={name: free_port() for name in SERVICES},
        partitions=3,
        instances=DISTRIBUTED_INSTANCES,
        instance_ports=free_instance_ports(DISTRIBUTED_INSTANCES),
        extra_env={
            f"{name.upper()}_KAFKA_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS) for name in SERVICES
        },
    )
    with on_kafka_and_postgres(request, deployment), running(Platform(deployment)) as platform:
        yield platform


def test_killing_any_instance_of_any_service_loses_no_answer_and_no_cent(
    scaled_out: Platform,
) -> None:
    assert sorted(scaled_out.processes) == sorted(IN_TURN)
    assert scaled_out.proxy is not None and scaled_out.proxy.running()
    faults = [
        Fault(FIRST_KILL_S + BETWEEN_KILLS_S * n, Kind.KILL, label)
        for n, label in enumerate(IN_TURN)
    ]

    report = ChaosRun(scaled_out, CONFIG, deployment="distributed").run(faults)
    print_report(report, Console(width=140, force_terminal=False))
    print("faults as they were made:", *report.injected.log, sep="\n")

    assert not report.problems, report.problems
    assert report.verdict is not None and report.verdict.ok, report.verdict.violations()
    shown = figures(report)
    assert (shown["lost"], shown["doubled"]) == (0, 0)
    assert {label: report.injected.counts[f"killed:{label}"] for label in IN_TURN} == dict.fromkeys(
        IN_TURN, 1
    )
    assert shown["submissions"] > 30, report.users
    assert not report.user_errors, report.user_errors[:3]
    assert scaled_out.proxy.running()  # the users went through it all along
