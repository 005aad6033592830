"""The transport comes from the event-log URL and the settings, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from teacher_hiring.messaging.embedded_log import EmbeddedLog
from teacher_hiring.messaging.kafka import KafkaTransport
from teacher_hiring.messaging.prefixed import PrefixedTransport
from teacher_hiring.runtime.transports import make_transport


def test_a_kafka_url_gives_kafka_with_the_process_name_and_session_timeout() -> None:
    transport = make_transport(
        "kafka://127.0.0.1:9092,127.0.0.1:9094",
        partitions=4,
        client_id="bonus@host:42",
        session_timeout_ms=3000,
    )

    assert isinstance(transport, KafkaTransport)
    assert transport.bootstrap_servers == "127.0.0.1:9092,127.0.0.1:9094"
    assert (transport.default_partitions, transport.session_timeout_ms) == (4, 3000)
    assert transport.client_id == "bonus@host:42"


def test_a_sqlite_url_gives_the_embedded_log_and_a_prefix_wraps_either(tmp_path: Path) -> None:
    transport = make_transport(f"sqlite:///{tmp_path}/events.db", partitions=2, topic_prefix="a.")

    assert isinstance(transport, PrefixedTransport)
    assert isinstance(transport.inner, EmbeddedLog)
    transport.close()


@pytest.mark.parametrize(
    "url", ["kafka://", "kafka://no-port", "sqlite://", "amqp://127.0.0.1:5672", "events.db"]
)
def test_an_unusable_url_is_refused_with_the_setting_named(url: str) -> None:
    with pytest.raises(ValueError, match="event_log_url"):
        make_transport(url, partitions=1)


def test_a_service_logged_in_to_the_secured_broker_writes_only_as_itself_and_reads_in_its_group(
    tmp_path: Path,
) -> None:
    """A replay of a topic it may not write goes through the producer (writes_only_as), and
    the dead-letter reader's group id is one of the principal's groups under the prefix."""
    secured = make_transport(
        "kafka://127.0.0.1:9092",
        partitions=2,
        topic_prefix="e2e.",
        client_config={"sasl.username": "bonus", "security.protocol": "SASL_SSL"},
    )
    admin = make_transport(
        "kafka://127.0.0.1:9092", partitions=2, client_config={"sasl.username": "admin"}
    )
    plain = make_transport("kafka://127.0.0.1:9092", partitions=2, client_id="bonus@h:1")
    embedded = make_transport(f"sqlite:///{tmp_path}/events.db", partitions=2)

    assert isinstance(secured, PrefixedTransport) and isinstance(secured.inner, KafkaTransport)
    assert secured.writes_only_as() == "bonus"
    assert secured.inner.reader_group == "e2e.bonus.reader"
    assert isinstance(plain, KafkaTransport) and plain.reader_group == "bonus@h:1-reader"
    assert admin.writes_only_as() is plain.writes_only_as() is embedded.writes_only_as() is None
    embedded.close()
