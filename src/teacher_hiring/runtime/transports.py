"""Choosing the transport from a URL, so deployment is configuration, not code."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import make_url

from teacher_hiring.messaging.embedded_log import EmbeddedLog
from teacher_hiring.messaging.kafka import KafkaTransport
from teacher_hiring.messaging.prefixed import PrefixedTransport
from teacher_hiring.messaging.transport import Transport


def make_transport(
    url: str,
    *,
    partitions: int,
    topic_prefix: str = "",
    client_id: str = "teacher-hiring",
    session_timeout_ms: int = 10_000,
    client_config: Mapping[str, str] | None = None,
) -> Transport:
    """`sqlite:///var/events.db` is the embedded log, `kafka://host:port[,host:port]` Kafka.

    A topic prefix keeps several platforms apart on one broker (see PrefixedTransport). The
    client id names this process to the broker: in its logs and in the consumer groups'
    descriptions (`kafka-consumer-groups.sh --describe --members`), to tell who owns what.
    `client_config`: Kafka only, librdkafka settings added to every client's (the credentials
    and CA of a secured broker, messaging/kafka_access.py).
    """
    user = (client_config or {}).get("sasl.username")
    transport = _transport(
        url,
        partitions=partitions,
        client_id=client_id,
        session_timeout_ms=session_timeout_ms,
        client_config=client_config,
        # On the secured broker a principal may use only its own groups, under the prefix.
        reader_group=f"{topic_prefix}{user}.reader" if user else None,
    )
    return PrefixedTransport(transport, topic_prefix) if topic_prefix else transport


def _transport(
    url: str,
    *,
    partitions: int,
    client_id: str,
    session_timeout_ms: int,
    client_config: Mapping[str, str] | None,
    reader_group: str | None = None,
) -> Transport:
    if url.startswith("sqlite:"):
        path = make_url(url).database
        if not path:
            raise ValueError(f"event_log_url: {url!r} names no file")
        return EmbeddedLog(path, default_partitions=partitions)
    if url.startswith("kafka://"):
        servers = url.removeprefix("kafka://").rstrip("/")
        if not servers or any(":" not in s for s in servers.split(",")):
            raise ValueError(f"event_log_url: {url!r} is not kafka://host:port[,host:port]")
        return KafkaTransport(
            servers,
            default_partitions=partitions,
            client_id=client_id,
            session_timeout_ms=session_timeout_ms,
            client_config=client_config,
            reader_group=reader_group,
        )
    raise ValueError(
        f"event_log_url: unsupported transport {url!r} (use sqlite:///<file> or kafka://host:port)"
    )
