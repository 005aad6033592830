"""PostgreSQL for the tests: the server for the session, a fresh database for each test.

The server is the private cluster of scripts/postgres.sh. If `status` says it is not running,
the tests start one on the test port (TH_PG_PORT, default 15432) in a data directory under
/tmp (TH_PG_DIR); the last test process using it stops it (tests/shared_server.py: the workers
of `pytest -n` and overlapping sessions share it). When no server can be had,
PostgreSQL tests are skipped with the script's message on a developer's machine, and fail in
CI (CI=true), where a skipped backend would pass silently.

Each test module gets a database of its own (CREATE DATABASE th_test_<uuid>, dropped after the
module), and each test finds it empty.

`database_url` is the backend switch of the service suites: every test that asks for it runs
once on SQLite and once on PostgreSQL, with the backend in the test id.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from missing_part import missing
from shared_server import SharedServer

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "postgres.sh"
TEST_PORT = "15432"
TEST_DIR = "/tmp/teacher-hiring-pg-test"
ROLE = "teacher_hiring"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""Parameters of a fixture that runs its tests on each database."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{ROLE}@{self.host}:{self.port}/{database}"


def _script(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,  # a first start may install the server from Debian's packages
        check=False,
    )


def drop_database(admin: sa.Engine, name: str, timeout_s: float = 30.0) -> None:
    """Drop a test database, ending the sessions the tests left open in it first.

    Not `WITH (FORCE)`: that also signals an autovacuum worker, which only a superuser may do,
    and fails the drop. The tests' own sessions are ended here; DROP DATABASE itself makes an
    autovacuum worker give way, and is tried again while one is still leaving.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        with admin.connect() as conn:
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
            except sa.exc.OperationalError:  # "is being accessed by other users"
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.2)


def _unavailable(message: str) -> None:
    missing(f"PostgreSQL unavailable: {message.strip()}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The running server, started (and later stopped) by the tests if it was not up."""
    env = {
        **os.environ,
        "TH_PG_PORT": os.environ.get("TH_PG_PORT", TEST_PORT),
        "TH_PG_DIR": os.environ.get("TH_PG_DIR", TEST_DIR),
        # The tests' shared cluster trusts loopback (one role, no TLS): a test of the secured
        # setup starts a cluster of its own (tests/integration/test_postgres_security.py).
        "TH_PG_AUTH": "trust",
    }

    def start() -> None:
        result = _script("start", env)
        if result.returncode != 0:
            _unavailable(result.stderr or result.stdout or f"exit {result.returncode}")

    def stop() -> None:
        _script("stop", env)

    server = SharedServer(
        Path(env["TH_PG_DIR"]),
        is_up=lambda: _script("status", env).returncode == 0,
        start=start,
        stop=stop,
    )
    with server.used():
        yield PostgresServer("127.0.0.1", int(env["TH_PG_PORT"]))


@pytest.fixture(scope="session")
def postgres_admin(postgres_server: PostgresServer) -> Iterator[sa.Engine]:
    """Creates and drops the per-test databases (CREATE DATABASE runs outside a transaction)."""
    engine = sa.create_engine(
        postgres_server.url("th_test"), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
    )
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def postgres_database(postgres_server: PostgresServer, postgres_admin: sa.Engine) -> Iterator[str]:
    """A new database for the tests of one module, dropped after them.

    Its default collation is a linguistic one (ICU en-US), as on most production servers, not
    the byte order of the script's cluster: code that needs byte order must ask for it.
    """
    name = f"th_test_{uuid.uuid4().hex}"
    with postgres_admin.connect() as conn:
        conn.exec_driver_sql(
            f'CREATE DATABASE "{name}" OWNER {ROLE} TEMPLATE template0 '
            "ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        )
    try:
        yield postgres_server.url(name)
    finally:
        drop_database(postgres_admin, name)


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    """An empty database for this test: the module's, emptied again after the test.

    Emptying (every session ended, the public schema dropped and created again) takes
    milliseconds where CREATE DATABASE takes a checkpoint, and leaves nothing behind: tables,
    functions, sequences, advisory locks.
    """
    yield postgres_database
    cleaner = sa.create_engine(
        postgres_database, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
    )
    with cleaner.connect() as conn:
        conn.exec_driver_sql(
            # Only the tests' own sessions: an autovacuum worker may be in the database too, and
            # only a superuser may signal it (it gives way to DROP SCHEMA on its own).
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend' AND usename = current_user"
        )
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    cleaner.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The service database: a SQLite file in tmp_path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/service.db"
    url: str = request.getfixturevalue("postgres_url")
    return url
