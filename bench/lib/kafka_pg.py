"""Kafka and PostgreSQL for a bench run: the servers (started with scripts/ if they do not
answer, stopped only if started here), a fresh database per service, topics under a prefix of
the run's own, and free ports for the services."""

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


def pg_url(database: str) -> str:
    return f"postgresql+psycopg://{ROLE}@127.0.0.1:{PG_PORT}/{database}"


def _script_env() -> dict[str, str]:
    """Servers of the benchmarks' own (ports 9192 and 5532, folders under /tmp), whatever the
    caller's environment says: the tests and `run --distributed` have theirs, and this run must
    not touch them. Unsecured (plaintext Kafka, trust on loopback): what is measured is the
    pipeline, as the peers' raw clients run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TH_PG_", "TH_KAFKA_"))}
    env.update(
        {
            "TH_PYTHON": sys.executable,
            "TH_KAFKA_DIR": str(KAFKA_DIR),
            "TH_KAFKA_PORT": KAFKA.rsplit(":", 1)[1],
            "TH_KAFKA_CONTROLLER_PORT": "9193",
            "TH_KAFKA_SECURITY": "plaintext",
            "TH_PG_DIR": str(PG_DIR),
            "TH_PG_PORT": str(PG_PORT),
            "TH_PG_AUTH": "trust",
        }
    )
    return env


@dataclass
class Servers:
    """Kafka and PostgreSQL: started if they do not answer, stopped only if started here."""

    started: list[str] = field(default_factory=list)

    def ensure(self) -> None:
        for script in ("kafka.sh", "postgres.sh"):
            if self._run(script, "status").returncode == 0:
                print(f"{script.removesuffix('.sh')}: already running, left running at the end")
                continue
            print(f"{script.removesuffix('.sh')}: starting ({script} start)...", flush=True)
            done = self._run(script, "start")
            if done.returncode != 0:
                raise SystemExit(f"{script} start failed ({done.returncode}):\n{done.stderr}")
            self.started.append(script)

    def stop(self) -> None:
        for script in reversed(self.started):
            self._run(script, "stop")
            print(f"{script.removesuffix('.sh')}: stopped (this run started it)")

    @staticmethod
    def _run(script: str, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPTS / script), command],
            env=_script_env(),
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


def _admin() -> AdminClient:
    return AdminClient({"bootstrap.servers": KAFKA, "allow.auto.create.topics": False})


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


def delete_topics(prefix: str) -> None:
    admin = _admin()
    names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result()


def message_count(topic: str) -> int:
    """Messages in a topic (its end offsets; the dead-letter topic must have none)."""
    admin = _admin()
    metadata = admin.list_topics(topic, timeout=10).topics.get(topic)
    if metadata is None or metadata.error is not None:
        return 0
    consumer = Consumer({"bootstrap.servers": KAFKA, "group.id": "bench-watermarks"})
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
