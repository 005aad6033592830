"""Who may do what on a secured Kafka broker, from the event catalogue (schemas/events.yaml).

The broker of scripts/kafka.sh authenticates every client (SASL/SCRAM-SHA-512 over TLS) and
refuses whatever no ACL allows. Each service is a principal of its own, allowed:
- WRITE on the topics whose events it produces, and no other (a topic has one producer, the
  registry makes sure), so the topic a record came on says which service wrote it;
- READ on the topics it consumes, with its consumer groups (`<service>.`-prefixed);
- READ, WRITE and DELETE on the dead-letter topics of the topics it consumes (it dead-letters,
  lists and purges them);
- DESCRIBE on every topic of the catalogue: partition counts and end offsets for the operator
  pages, nothing of the records.
The admin principal (scripts, topic creation, operator tools, chaos) is a super user.

Client settings come from a properties file the script writes (one per principal, mode 0600):
librdkafka's own keys, such as `security.protocol`, `sasl.mechanism`, `sasl.username`,
`sasl.password`, `ssl.ca.location`.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.transport import dlq_topic

ADMIN = "admin"
"""The principal of the scripts and operator tools: a super user of the broker."""


class ClientConfigError(ValueError):
    """A client properties file that cannot be used, with what to do about it."""


def read_client_config(path: Path) -> dict[str, str]:
    """The `key=value` lines of a client properties file (`#` starts a comment).

    Refused when others than its owner may read it: it holds a password."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ClientConfigError(f"kafka client config {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ClientConfigError(
            f"kafka client config {path}: readable by others (mode {stat.S_IMODE(mode):o}); "
            f"it holds a password: chmod 600 {path}"
        )
    config: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ClientConfigError(f"kafka client config {path}: line {number} is not key=value")
        config[key.strip()] = value.strip()
    return config


@dataclass(frozen=True, order=True)
class Rule:
    """One ACL: `principal` may do `operation` on the resource (LITERAL or PREFIXED name)."""

    principal: str
    resource: str  # "topic" or "group"
    name: str
    operation: str  # "READ", "WRITE", "DESCRIBE", "DELETE"
    pattern: str = "LITERAL"


def services(registry: SchemaRegistry) -> list[str]:
    """Every service the catalogue names, as producer or consumer."""
    names = {s.producer for s in registry.events()} | {
        c for s in registry.events() for c in s.consumers
    }
    return sorted(names)


def rules(registry: SchemaRegistry, prefix: str = "") -> list[Rule]:
    """The ACLs of every service on the topics of the catalogue, each under `prefix`."""
    found: set[Rule] = set()
    topics = registry.topics()
    for service in services(registry):
        for topic in topics:
            for name in (topic, dlq_topic(topic)):
                found.add(Rule(service, "topic", prefix + name, "DESCRIBE"))
        found.add(Rule(service, "group", f"{prefix}{service}.", "READ", "PREFIXED"))
    for topic in topics:
        owner = registry.topic_owner(topic)
        if owner is not None:
            found.add(Rule(owner, "topic", prefix + topic, "WRITE"))
        readers = {c for spec in registry.events_on_topic(topic) for c in spec.consumers}
        for reader in readers:
            found.add(Rule(reader, "topic", prefix + topic, "READ"))
            for operation in ("READ", "WRITE", "DELETE"):
                found.add(Rule(reader, "topic", prefix + dlq_topic(topic), operation))
    return sorted(found)


def grant(
    bootstrap_servers: str,
    admin_config: Mapping[str, str],
    registry: SchemaRegistry,
    *,
    prefix: str = "",
    partitions: int = 6,
) -> list[Rule]:
    """Create the catalogue's topics and the services' ACLs on the broker, as the admin.

    Idempotent: a topic or ACL already there is left as it is. Returns the rules."""
    from teacher_hiring.messaging.kafka import KafkaTransport  # confluent-kafka, only here

    transport = KafkaTransport(
        bootstrap_servers,
        default_partitions=partitions,
        client_id="teacher-hiring-admin",
        client_config=admin_config,
    )
    try:
        transport.ensure_topics([prefix + t for t in registry.topics()])
        wanted = rules(registry, prefix)
        transport.create_acls(wanted)
        return wanted
    finally:
        transport.close()


def describe(rules_: Iterable[Rule]) -> Sequence[str]:
    """One line per rule, for the scripts' output."""
    return [
        f"User:{r.principal} {r.operation} {r.resource} {r.name}"
        + (" (prefix)" if r.pattern == "PREFIXED" else "")
        for r in rules_
    ]
