"""The secured broker of scripts/kafka.sh (TH_KAFKA_SECURITY=sasl_ssl): SCRAM over TLS, and
ACLs from schemas/events.yaml, so that a service may write only the topics whose events it
produces and read only those it consumes (docs/security.md).

The session's secured broker (tests/conftest.py): a start costs some 30 s of both cores."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from teacher_hiring.chaos.broker import ScriptBroker
from teacher_hiring.messaging.kafka import KafkaTransport
from teacher_hiring.messaging.kafka_access import read_client_config
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.transport import OutgoingMessage, TransportError, dlq_topic

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

REGISTRY = SchemaRegistry.load()
DENIED = "[Aa]uthorization failed"


@pytest.fixture
def broker(secured_broker: ScriptBroker) -> ScriptBroker:
    return secured_broker


def credentials(broker: ScriptBroker, principal: str) -> dict[str, str]:
    path = broker.client_config(principal)
    assert path is not None
    return read_client_config(path)


def transport(broker: ScriptBroker, principal: str) -> KafkaTransport:
    return KafkaTransport(
        broker.bootstrap,
        client_id=f"test-{principal}",
        client_config=credentials(broker, principal),
        session_timeout_ms=6000,
    )


def metadata_error(config: dict[str, str]) -> str:
    """What goes wrong when a client with `config` asks the broker for metadata: the client's
    errors (a refused handshake or login is reported there) and the request's; "" if none."""
    errors: list[str] = []
    admin = AdminClient({"log_level": 0, **config, "error_cb": lambda e: errors.append(str(e))})
    try:
        admin.list_topics(timeout=5)
    except KafkaException as exc:
        admin.poll(1)  # serves the client's error callbacks
        errors.append(str(exc.args[0]))
    return "; ".join(errors)


def send(broker: ScriptBroker, principal: str, topic: str) -> None:
    producer = transport(broker, principal).producer()
    try:
        producer.send([OutgoingMessage(topic, "k", b"{}", {"producer": "hiring"})])
    finally:
        producer.close()


def test_the_clients_files_hold_a_password_only_their_owner_reads(broker: ScriptBroker) -> None:
    for principal in ("admin", "exercises", "hiring", "bonus"):
        path = broker.client_config(principal)
        assert path is not None and path.stat().st_mode & 0o777 == 0o600
        assert credentials(broker, principal)["sasl.username"] == principal
    properties = (broker.data_dir / "server.properties").stat().st_mode
    assert properties & 0o077 == 0, "the broker's settings hold the admin's password"


def test_a_client_without_credentials_is_refused(broker: ScriptBroker) -> None:
    plaintext = {"bootstrap.servers": broker.bootstrap}
    assert metadata_error(plaintext) != ""
    hiring = credentials(broker, "hiring")
    tls_only = {
        **plaintext,
        "security.protocol": "SSL",
        "ssl.ca.location": hiring["ssl.ca.location"],
    }
    assert metadata_error(tls_only) != ""
    wrong_password = {**plaintext, **hiring, "sasl.password": "not-the-password"}
    assert "Authentication failed" in metadata_error(wrong_password)
    assert metadata_error({**plaintext, **hiring}) == ""


def test_a_client_that_does_not_trust_the_ca_does_not_send_its_password(
    broker: ScriptBroker,
) -> None:
    hiring = credentials(broker, "hiring")
    del hiring["ssl.ca.location"]  # the system's CAs do not know the broker's
    error = metadata_error({"bootstrap.servers": broker.bootstrap, **hiring})
    assert "certificate verify failed" in error or "SSL handshake failed" in error, error


@pytest.mark.parametrize(
    ("principal", "topic"),
    [
        ("hiring", "exercises"),  # ExerciseCreated, ExerciseUpdated: exercises' events
        ("hiring", "managers"),
        ("hiring", "payments"),  # PaymentCommited: exercises'
        ("exercises", "money"),  # BonusAdded, FineAdded: hiring's
        ("exercises", "task-ratings"),
        ("bonus", "money"),  # bonus consumes money, and may not write it
        ("bonus", "payments"),
    ],
)
def test_a_service_cannot_produce_to_a_topic_of_another_services_events(
    broker: ScriptBroker, principal: str, topic: str
) -> None:
    assert REGISTRY.topic_owner(topic) != principal
    with pytest.raises(TransportError, match=DENIED):
        send(broker, principal, topic)


def test_a_service_cannot_create_a_topic(broker: ScriptBroker) -> None:
    with pytest.raises(TransportError, match="may not create"):
        transport(broker, "hiring").ensure_topics([f"stray-{uuid.uuid4().hex[:8]}"])


def test_a_service_cannot_read_a_topic_it_does_not_consume(broker: ScriptBroker) -> None:
    member = transport(broker, "exercises").consumer("exercises.snooping", ["money"])
    try:
        with pytest.raises(TransportError, match=DENIED):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                member.poll(10, 1.0)
    finally:
        member.close()


def produced_by(service: str) -> list[str]:
    return sorted({s.topic for s in REGISTRY.events() if s.producer == service})


def consumed_by(service: str) -> list[str]:
    return sorted({s.topic for s in REGISTRY.events() if service in s.consumers})


@pytest.mark.parametrize("service", ["exercises", "hiring", "bonus"])
def test_each_service_writes_its_topics_and_reads_what_it_consumes(
    broker: ScriptBroker, service: str
) -> None:
    own = transport(broker, service)
    own.ensure_topics(REGISTRY.topics())  # exist already (the admin made them): no error
    producer = own.producer()
    marker = uuid.uuid4().hex
    try:
        producer.send([OutgoingMessage(t, marker, marker.encode()) for t in produced_by(service)])
    finally:
        producer.close()

    readers = {
        c for t in produced_by(service) for s in REGISTRY.events_on_topic(t) for c in s.consumers
    }
    for reader in sorted(readers):
        topics = [t for t in produced_by(service) if t in consumed_by(reader)]
        member = transport(broker, reader).consumer(f"{reader}.test-{marker[:8]}", topics)
        seen: set[str] = set()
        try:
            deadline = time.monotonic() + 60
            while seen != set(topics) and time.monotonic() < deadline:
                records = member.poll(500, 1.0)
                seen |= {r.topic for r in records if r.key == marker}
                if records:
                    latest: dict[object, int] = {}
                    for r in records:
                        latest[r.topic_partition] = max(
                            latest.get(r.topic_partition, 0), r.offset + 1
                        )
                    member.commit(latest)  # its groups are its own to commit
        finally:
            member.close()
        assert seen == set(topics), f"{reader} read {sorted(seen)} of {topics}"


def test_a_consumer_may_dead_letter_what_it_reads_and_nothing_else(broker: ScriptBroker) -> None:
    send(broker, "bonus", dlq_topic("money"))
    with pytest.raises(TransportError, match=DENIED):
        send(broker, "hiring", dlq_topic("money"))


def test_the_admin_grants_a_platform_with_a_topic_prefix_its_own_topics(
    broker: ScriptBroker, tmp_path: Path
) -> None:
    from teacher_hiring.messaging.kafka_access import grant

    prefix = f"p{uuid.uuid4().hex[:6]}."
    grant(broker.bootstrap, credentials(broker, "admin"), REGISTRY, prefix=prefix, partitions=1)
    send(broker, "hiring", prefix + "money")
    with pytest.raises(TransportError, match=DENIED):
        send(broker, "exercises", prefix + "money")
