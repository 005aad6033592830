"""Kafka and PostgreSQL for a bench run: the servers (started with scripts/ if they do not
answer, stopped only if started here), a fresh database per service, topics under a prefix of
the run's own, and free ports for the services.

Two brokers of the benchmarks' own: plaintext on 9192, and, to measure what TLS and SASL cost,
one as the distributed deployment runs by default (SCRAM over TLS, each service its own topics)
on 9194. The same figures are taken on each."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from teacher_hiring.messaging.kafka_access import read_client_config
from teacher_hiring.runtime.processes import SERVICES

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
KAFKA = "127.0.0.1:9192"
PG_PORT = 5532
ROLE = "teacher_hiring"
KAFKA_DIR = Path("/tmp/teacher-hiring-kafka-bench")
PG_DIR = Path("/tmp/teacher-hiring-pg-bench")
KAFKA_PIDFILE = KAFKA_DIR / "kafka.pid"
PG_PIDFILE = PG_DIR / "data" / "postmaster.pid"
PARTITIONS = 6
SECURED_KAFKA = "127.0.0.1:9194"
SECURED_KAFKA_DIR = Path("/tmp/teacher-hiring-kafka-bench-secured")


@dataclass(frozen=True)
class KafkaAt:
    """One of the benchmarks' brokers: where, the admin's client settings, its pid file, and
    each service's client properties (none on plaintext)."""

    bootstrap: str
    security: str
    data_dir: Path

    @property
    def pidfile(self) -> Path:
        return self.data_dir / "kafka.pid"

    def admin_config(self) -> dict[str, str]:
        if self.security == "plaintext":
            return {}
        return read_client_config(self.data_dir / "clients" / "admin.properties")

    def service_clients(self) -> dict[str, Path]:
        if self.security == "plaintext":
            return {}
        return {name: self.data_dir / "clients" / f"{name}.properties" for name in SERVICES}

    def script_env(self) -> dict[str, str]:
        port = int(self.bootstrap.rsplit(":", 1)[1])
        return {
            "TH_KAFKA_DIR": str(self.data_dir),
            "TH_KAFKA_PORT": str(port),
            "TH_KAFKA_CONTROLLER_PORT": str(port + 1),
            "TH_KAFKA_SECURITY": self.security,
        }


PLAINTEXT = KafkaAt(KAFKA, "plaintext", KAFKA_DIR)
SECURED = KafkaAt(SECURED_KAFKA, "sasl_ssl", SECURED_KAFKA_DIR)


def pg_url(database: str) -> str:
    return f"postgresql+psycopg://{ROLE}@127.0.0.1:{PG_PORT}/{database}"


def _script_env(kafka: KafkaAt = PLAINTEXT) -> dict[str, str]:
    """Servers of the benchmarks' own (ports 9192, 9194 and 5532, folders under /tmp), whatever
    the caller's environment says: the tests and `run --distributed` have theirs, and this run
    must not touch them. PostgreSQL trusts loopback: what is measured is the pipeline, as the
    peers' raw clients run it; Kafka is plaintext, and secured on the second broker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TH_PG_", "TH_KAFKA_"))}
    env.update(
        {
            "TH_PYTHON": sys.executable,
            **kafka.script_env(),
            "TH_PG_DIR": str(PG_DIR),
            "TH_PG_PORT": str(PG_PORT),
            "TH_PG_AUTH": "trust",
        }
    )
    return env


@dataclass
class Servers:
    """Kafka (each broker asked for) and PostgreSQL: started if they do not answer, stopped
    only if started here."""

    brokers: tuple[KafkaAt, ...] = (PLAINTEXT,)
    started: list[tuple[str, KafkaAt]] = field(default_factory=list)

    def ensure(self) -> None:
        wanted = [("kafka.sh", broker) for broker in self.brokers] + [("postgres.sh", PLAINTEXT)]
        for script, broker in wanted:
            name = script.removesuffix(".sh")
            if name == "kafka":
                name = f"kafka ({broker.security}, {broker.bootstrap})"
            if self._run(script, "status", broker).returncode == 0:
                print(f"{name}: already running, left running at the end")
                continue
            print(f"{name}: starting ({script} start)...", flush=True)
            done = self._run(script, "start", broker)
            if done.returncode != 0:
                raise SystemExit(f"{script} start failed ({done.returncode}):\n{done.stderr}")
            self.started.append((script, broker))

    def stop(self) -> None:
        for script, broker in reversed(self.started):
            self._run(script, "stop", broker)
            print(f"{script.removesuffix('.sh')}: stopped (this run started it)")

    @staticmethod
    def _run(script: str, command: str, broker: KafkaAt) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPTS / script), command],
            env=_script_env(broker),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )


@contextmanager
def bench_databases(run_id: str, services: Sequence[str] = SERVICES) -> Iterator[dict[str, str]]:
    """One fresh database per service (or per name given), owned by the services' role,
    dropped at the end.

    Created as the tests create theirs (tests/integration/postgres_server.py): the role of
    scripts/postgres.sh may create databases, on the maintenance database, outside a transaction.
    """
    admin = sa.create_engine(
        pg_url("postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
    )
    names = {service: f"th_bench_{service}_{run_id}" for service in services}
    try:
        with admin.connect() as conn:
            for name in names.values():
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" OWNER {ROLE}')
        yield {service: pg_url(name) for service, name in names.items()}
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _config(kafka: KafkaAt) -> dict[str, str]:
    return {"bootstrap.servers": kafka.bootstrap, **kafka.admin_config()}


def _admin(kafka: KafkaAt = PLAINTEXT) -> AdminClient:
    return AdminClient({**_config(kafka), "allow.auto.create.topics": False})


def create_topic(name: str) -> None:
    admin = _admin()  # kept referenced until the futures are done
    futures = admin.create_topics([NewTopic(name, PARTITIONS, -1)], operation_timeout=30)
    for future in futures.values():
        future.result()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        topic = admin.list_topics(name, timeout=10).topics.get(name)
        if topic is not None and topic.error is None and len(topic.partitions) == PARTITIONS:
            return
        time.sleep(0.05)
    raise TimeoutError(f"topic {name} not in the metadata")


def delete_topics(prefix: str, kafka: KafkaAt = PLAINTEXT) -> None:
    admin = _admin(kafka)
    names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result()


def message_count(topic: str, kafka: KafkaAt = PLAINTEXT) -> int:
    """Messages in a topic (its end offsets; the dead-letter topic must have none)."""
    admin = _admin(kafka)
    metadata = admin.list_topics(topic, timeout=10).topics.get(topic)
    if metadata is None or metadata.error is not None:
        return 0
    consumer = Consumer({**_config(kafka), "group.id": "bench-watermarks"})
    try:
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            - consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[0]
            for p in metadata.partitions
        )
    finally:
        consumer.close()


def free_port_pair() -> int:
    """A port free together with the one 10 above it (a second instance listens there)."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + 10 < 65536:
            with socket.socket() as other:
                try:
                    other.bind(("127.0.0.1", port + 10))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free pair of ports")
