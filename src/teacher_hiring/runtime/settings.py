"""What every service's settings class has in common."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from teacher_hiring.runtime.auth_settings import AuthSettings

DEFAULT_PORTS = {"exercises": 8701, "hiring": 8702, "bonus": 8703}
"""Where each service listens unless told otherwise."""
DEFAULT_URLS = {name: f"http://127.0.0.1:{port}" for name, port in DEFAULT_PORTS.items()}
"""Each service's base URL on this machine, at its default port."""


def service_url(service: str, use: str) -> Any:
    """A setting holding another service's base URL (by default on this machine); `use` says
    what this service calls it for."""
    return Field(DEFAULT_URLS[service], description=f"Base URL of {service} ({use})")


def call_timeout(description: str) -> Any:
    """The `call_timeout_s` setting of a service whose requests call another one in sync mode
    (the old wiring); `description` says what fails when the call takes longer."""
    return Field(1.0, gt=0, description=description)


def produced_version(description: str, newest: int = 1) -> Any:
    """A setting choosing the version of an event family the service produces (0 to `newest`,
    the default) until an operator flag overrides it at run time; `description` names the
    family and its flag."""
    return Field(newest, ge=0, le=newest, description=description)


class ServiceSettings(AuthSettings):
    """Read from the environment with the service's prefix (EXERCISES_, HIRING_, BONUS_);
    `environment` and `auth_secret` come from AuthSettings (docs/security.md)."""

    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    database_url: str
    event_log_url: str = Field(
        "sqlite:///var/events.db",
        description="sqlite:///<file>: the embedded log shared by the services on one machine; "
        "kafka://host:port[,host:port]: Apache Kafka",
    )
    partitions: int = Field(6, ge=1, description="Partitions of each topic this service creates")
    topic_prefix: str = Field(
        "",
        max_length=100,
        description="Put every topic under this prefix (one broker, many platforms)",
    )
    kafka_client_config: Path | None = Field(
        None,
        description="Kafka only: a properties file of librdkafka settings (security.protocol, "
        "sasl.username, sasl.password, ssl.ca.location) naming this service to a secured "
        "broker; scripts/kafka.sh writes one per service, mode 0600, as "
        "<kafka data folder>/clients/<service>.properties",
    )
    kafka_session_timeout_ms: int = Field(
        10_000,
        ge=1000,
        le=300_000,
        description="Kafka only: a member silent this long leaves its group and its partitions "
        "move to the others (sooner failover, but a long pause may evict a live member)",
    )
    run_workers: bool = Field(True, description="Run the relay and consumers in this process")
    relay_batch_size: int = Field(500, ge=1)
    consumer_batch_size: int = Field(500, ge=1)
    consumer_max_attempts: int = Field(5, ge=1)
    outbox_retention_s: float = Field(
        7 * 24 * 3600,
        gt=0,
        description="How long sent events stay in the outbox (money events stay longer in the "
        "record of issued money)",
    )
    max_request_bytes: int = Field(64 * 1024, ge=1024)
    log_level: str = "info"
    log_format: Literal["json", "console"] = "json"
