"""The short form of `make chaos` on both deployments: faults of every kind while simulated
users work, and not one violation of the checks (docs/chaos.md).

The distributed form runs on the session's PostgreSQL (fresh databases of its own) and on a
Kafka broker of its own: the broker is among the processes killed, and the session's broker is
shared with other tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from rich.console import Console

from e2e.platform_api import free_port
from integration.kafka_broker import broker_of_its_own
from teacher_hiring.chaos import stand
from teacher_hiring.chaos.report import figures, print_report
from teacher_hiring.chaos.run import ChaosConfig, ChaosRun
from teacher_hiring.chaos.schedule import BROKER, Kind, schedule
from teacher_hiring.runtime.processes import (
    DISTRIBUTED_INSTANCES,
    SERVICES,
    Deployment,
    Platform,
    free_instance_ports,
)

pytestmark = pytest.mark.e2e

CONFIG = ChaosConfig(
    seconds=20,
    seed=30,  # every kind of fault; on the distributed one, the broker killed once, at 6.7 s
    kill_interval_s=5,
    broker_kill_interval_s=10,
    duplicate_interval_s=1.5,
    poison_interval_s=2.5,
    outage_interval_s=5,
    concurrency=3,
    settle_timeout_s=120,
)


DEPLOYMENTS = [
    "embedded",
    pytest.param("distributed", marks=[pytest.mark.kafka, pytest.mark.postgres]),
]


@pytest.fixture(params=DEPLOYMENTS)
def chaos_stand(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[stand.Stand]:
    deployment = Deployment(
        data_dir=tmp_path / "var", ports={name: free_port() for name in SERVICES}, partitions=3
    )
    with ExitStack() as stack:
        if request.param == "embedded":
            yield stack.enter_context(stand.embedded(deployment))
            return
        server = request.getfixturevalue("postgres_server")
        stack.enter_context(stand.fresh_databases(server.url("postgres"), deployment))
        broker = stack.enter_context(broker_of_its_own(tmp_path / "kafka"))
        deployment.log_url = f"kafka://{broker.bootstrap}"
        deployment.instances = dict(DISTRIBUTED_INSTANCES)
        deployment.instance_ports = free_instance_ports(DISTRIBUTED_INSTANCES)
        platform = stack.enter_context(stand.running(Platform(deployment)))
        yield stand.Stand(platform, broker)


def test_under_faults_of_every_kind_nothing_is_lost_or_doubled(
    chaos_stand: stand.Stand,
) -> None:
    run = ChaosRun(
        chaos_stand.platform,
        CONFIG,
        deployment="distributed" if chaos_stand.broker else "embedded",
        broker=chaos_stand.broker,
    )
    planned = schedule(run.plan(), CONFIG.seed)
    assert {f.kind for f in planned} == set(Kind)
    if chaos_stand.broker is not None:
        assert any(f.target == BROKER for f in planned), "this seed kills no broker"

    report = run.run()
    print_report(report, Console(width=140, force_terminal=False))
    print("faults as they were made:", *report.injected.log, sep="\n")

    assert not report.problems, report.problems
    assert report.verdict is not None and report.verdict.ok, report.verdict.violations()
    shown = figures(report)
    assert (shown["lost"], shown["doubled"]) == (0, 0)
    for fault in ("processes killed", "duplicates injected", "poison injected", "database outages"):
        assert shown[fault] > 0, f"no {fault}: {report.injected.log}"
    assert shown["submissions"] > 30, report.users
    assert not report.user_errors, report.user_errors[:3]
