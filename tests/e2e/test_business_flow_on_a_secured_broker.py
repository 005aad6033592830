"""The whole business on the distributed deployment as it runs by default: Kafka with SCRAM over
TLS and each service allowed only its own topics (scripts/kafka.sh, docs/security.md), so that
every event the business needs is produced and consumed under those ACLs.

The same tests as test_business_flow.py, on a broker of this module's own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from e2e.platform_api import on_kafka_and_postgres, running
from e2e.test_business_flow import (
    test_a_candidate_who_solves_every_exercise_becomes_a_teacher,
    test_eleventh_completion_opens_one_assignment_and_the_new_version_replaces_the_old,
)
from teacher_hiring.chaos.broker import ScriptBroker
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.messaging.kafka_access import grant, read_client_config
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.runtime.processes import SERVICES, Deployment, Platform

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres]

__all__ = [
    "test_a_candidate_who_solves_every_exercise_becomes_a_teacher",
    "test_eleventh_completion_opens_one_assignment_and_the_new_version_replaces_the_old",
]


@pytest.fixture
def platform(
    request: pytest.FixtureRequest, tmp_path: Path, secured_broker: ScriptBroker
) -> Iterator[Platform]:
    """The three services on PostgreSQL and the secured broker, each with its own credentials,
    under a topic prefix that the admin grants them first."""
    deployment = Deployment(
        data_dir=tmp_path / "var", ports={name: free_port() for name in SERVICES}, partitions=3
    )
    with ExitStack() as stack:
        stack.enter_context(on_kafka_and_postgres(request, deployment, secured_broker.bootstrap))
        admin = secured_broker.client_config("admin")
        assert admin is not None
        grant(
            secured_broker.bootstrap,
            read_client_config(admin),
            SchemaRegistry.load(),
            prefix=deployment.topic_prefix,
            partitions=3,
        )
        deployment.kafka_clients = secured_broker.service_clients()
        yield stack.enter_context(running(Platform(deployment)))
