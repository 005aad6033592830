"""The platform a chaos run breaks, started for it and for it alone.

Embedded: the three services on SQLite and the embedded log under a folder of the run.
Distributed: PostgreSQL (scripts/postgres.sh, started if it is not running) with a fresh
database per service, dropped afterwards; a Kafka broker of the run's own (a broker that other
platforms share is not for killing); two instances of every service, each service behind one
address (the platform's proxy), as `teacher-hiring run --distributed` runs them.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from teacher_hiring.chaos.broker import SCRIPT as KAFKA_SCRIPT
from teacher_hiring.chaos.broker import ScriptBroker
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.runtime.processes import (
    DISTRIBUTED_INSTANCES,
    SERVICES,
    Deployment,
    Platform,
    free_instance_ports,
)

POSTGRES_SCRIPT = KAFKA_SCRIPT.with_name("postgres.sh")
POSTGRES = "postgresql+psycopg://teacher_hiring@127.0.0.1:{port}/{database}"
ROLE = "teacher_hiring"


@dataclass
class Stand:
    platform: Platform
    broker: ScriptBroker | None = None


def deployment_for(data_dir: Path, *, environment: str, auth_secret: str) -> Deployment:
    return Deployment(
        data_dir=data_dir,
        ports={name: free_port() for name in SERVICES},
        partitions=3,
        environment=environment,
        auth_secret=auth_secret,
    )


@contextmanager
def running(platform: Platform, timeout_s: float = 180.0) -> Iterator[Platform]:
    try:
        platform.start(timeout_s=timeout_s)
        yield platform
    finally:
        platform.stop()


@contextmanager
def embedded(deployment: Deployment) -> Iterator[Stand]:
    with running(Platform(deployment)) as platform:
        yield Stand(platform)


@contextmanager
def private_broker(data_dir: Path) -> Iterator[ScriptBroker]:
    broker = ScriptBroker(data_dir)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@contextmanager
def fresh_databases(admin_url: str, deployment: Deployment) -> Iterator[None]:
    """A new database per service on the server of `admin_url`, dropped afterwards."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    run = uuid.uuid4().hex[:10]
    created: list[str] = []
    urls = {}
    try:
        for name in SERVICES:
            database = f"th_chaos_{run}_{name}"
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{database}" OWNER {ROLE}')
            created.append(database)
            urls[name] = admin.url.set(database=database).render_as_string(hide_password=False)
        deployment.database_urls = urls
        yield
    finally:
        for database in created:
            drop_database(admin, database)
        admin.dispose()


def drop_database(admin: sa.Engine, name: str, timeout_s: float = 30.0) -> None:
    """End the platform's sessions in it, then drop it (again while one is still leaving)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name "
                    "AND backend_type = 'client backend' AND usename = current_user"
                ),
                {"name": name},
            )
            try:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
                return
            except sa.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.2)


@contextmanager
def postgres_server(port: int) -> Iterator[str]:
    """The admin URL of a PostgreSQL answering on `port`: one trusting loopback as it is, else
    the project's own cluster (scripts/postgres.sh), started there if it is not running (and
    stopped at the end), logged into as its role teacher_hiring with the password and CA the
    script prints (TH_PG_AUTH=scram, the default)."""
    trusted = POSTGRES.format(port=port, database="postgres")
    if _answers(trusted):
        yield trusted
        return
    env = _env({"TH_PG_PORT": str(port)})
    done = subprocess.run(
        ["bash", str(POSTGRES_SCRIPT), "start"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/postgres.sh start: {(done.stderr or done.stdout)[-500:]}")
    started = "started on" in done.stderr
    printed = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    try:
        yield printed.get("ADMIN_DATABASE_URL", trusted)
    finally:
        if started:
            subprocess.run(["bash", str(POSTGRES_SCRIPT), "stop"], env=env, capture_output=True)


def _answers(url: str) -> bool:
    engine = sa.create_engine(url, poolclass=sa.NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


@contextmanager
def distributed(deployment: Deployment, *, postgres_port: int = 5432) -> Iterator[Stand]:
    with ExitStack() as stack:
        admin_url = stack.enter_context(postgres_server(postgres_port))
        stack.enter_context(fresh_databases(admin_url, deployment))
        broker = stack.enter_context(private_broker(deployment.data_dir / "kafka"))
        deployment.log_url = f"kafka://{broker.bootstrap}"
        deployment.kafka_clients = broker.service_clients()
        deployment.kafka_admin_client = broker.client_config("admin")
        deployment.instances = dict(DISTRIBUTED_INSTANCES)
        deployment.instance_ports = free_instance_ports(DISTRIBUTED_INSTANCES)
        platform = stack.enter_context(running(Platform(deployment)))
        yield Stand(platform, broker)
