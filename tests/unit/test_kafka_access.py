"""The ACLs of the secured broker, as messaging/kafka_access.py derives them from the catalogue,
and the client properties files that carry the credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from teacher_hiring.messaging.kafka_access import (
    ClientConfigError,
    Rule,
    read_client_config,
    rules,
    services,
)
from teacher_hiring.messaging.registry import SchemaRegistry

REGISTRY = SchemaRegistry.load()


def allowed(principal: str, operation: str, prefix: str = "") -> set[str]:
    return {
        r.name
        for r in rules(REGISTRY, prefix)
        if r.principal == principal and r.operation == operation and r.resource == "topic"
    }


def test_each_service_writes_only_the_topics_of_the_events_it_produces() -> None:
    assert allowed("hiring", "WRITE") == {
        "candidates",
        "exercise-completions",
        "task-ratings",
        "money",
        "exercises.dlq",  # the dead letters of what it consumes
        "managers.dlq",
    }
    assert allowed("exercises", "WRITE") == {
        "exercises",
        "managers",
        "payments",
        "candidates.dlq",
        "exercise-completions.dlq",
    }
    assert allowed("bonus", "WRITE") == {
        "money.dlq",
        "payments.dlq",
        "task-ratings.dlq",
        "managers.dlq",
    }


def test_no_one_but_hiring_may_write_bonuses_and_no_one_but_exercises_payments() -> None:
    writers = {(r.principal, r.name) for r in rules(REGISTRY) if r.operation == "WRITE"}
    assert {p for p, topic in writers if topic == "money"} == {"hiring"}
    assert {p for p, topic in writers if topic == "payments"} == {"exercises"}


def test_each_service_reads_what_it_consumes_and_its_dead_letters() -> None:
    assert allowed("bonus", "READ") == {
        "money",
        "payments",
        "task-ratings",
        "managers",
        "money.dlq",
        "payments.dlq",
        "task-ratings.dlq",
        "managers.dlq",
    }
    assert "money" not in allowed("exercises", "READ") | allowed("hiring", "READ")


def test_every_service_may_describe_every_topic_for_the_operator_pages() -> None:
    topics = set(REGISTRY.topics()) | {t + ".dlq" for t in REGISTRY.topics()}
    for service in services(REGISTRY):
        assert allowed(service, "DESCRIBE") == topics


def test_a_prefix_applies_to_topics_and_consumer_groups() -> None:
    assert allowed("hiring", "WRITE", "e2e.") == {"e2e." + t for t in allowed("hiring", "WRITE")}
    assert Rule("bonus", "group", "e2e.bonus.", "READ", "PREFIXED") in rules(REGISTRY, "e2e.")


def test_a_client_config_is_read_as_key_value_lines(tmp_path: Path) -> None:
    path = tmp_path / "hiring.properties"
    path.write_text("# hiring\nsecurity.protocol=SASL_SSL\nsasl.password = a=b\n\n")
    path.chmod(0o600)
    assert read_client_config(path) == {"security.protocol": "SASL_SSL", "sasl.password": "a=b"}


def test_a_client_config_others_may_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hiring.properties"
    path.write_text("sasl.password=secret\n")
    path.chmod(0o644)
    with pytest.raises(ClientConfigError, match=r"readable by others.*chmod 600"):
        read_client_config(path)


def test_a_broken_or_missing_client_config_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "hiring.properties"
    path.write_text("sasl.password\n")
    path.chmod(0o600)
    with pytest.raises(ClientConfigError, match="line 1 is not key=value"):
        read_client_config(path)
    with pytest.raises(ClientConfigError, match=r"nowhere\.properties"):
        read_client_config(tmp_path / "nowhere.properties")


def test_run_distributed_hands_each_service_its_file_only_for_a_secured_broker(
    tmp_path: Path,
) -> None:
    from teacher_hiring.cli.run import kafka_clients
    from teacher_hiring.runtime.processes import Deployment

    assert kafka_clients(tmp_path) == {}  # a folder never formatted
    (tmp_path / "security.mode").write_text("plaintext\n")
    assert kafka_clients(tmp_path) == {}
    (tmp_path / "security.mode").write_text("sasl_ssl\n")
    clients = kafka_clients(tmp_path)
    assert clients == {
        s: tmp_path / "clients" / f"{s}.properties" for s in ("exercises", "hiring", "bonus")
    }
    env = Deployment(kafka_clients=clients).env_for("hiring")
    assert env["HIRING_KAFKA_CLIENT_CONFIG"] == str(tmp_path / "clients" / "hiring.properties")
    assert "EXERCISES_KAFKA_CLIENT_CONFIG" not in env
