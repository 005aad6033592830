"""The PostgreSQL of scripts/postgres.sh as it runs by default (TH_PG_AUTH=scram): TLS on every
TCP connection, a password per service role (SCRAM-SHA-256), each role allowed into its own
database only (docs/security.md). A cluster of this module's own, on a free port."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

import teacher_hiring.bonus.adapters.migrations as bonus_migrations
from integration.postgres_server import SCRIPT
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.runtime.db import dispose, make_engine, upgrade_to_head

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

SERVICES = ("exercises", "hiring", "bonus", "web")
MIGRATIONS = Path(bonus_migrations.__file__).parent


class Cluster:
    def __init__(self, folder: Path, port: int, urls: dict[str, str]) -> None:
        self.folder, self.port, self.urls = folder, port, urls

    def password(self, role: str) -> str:
        return (self.folder / "passwords" / role).read_text().strip()

    def connect(self, **options: object) -> str:
        """`ok <user>` or the server's refusal, for a connection with these options."""
        try:
            with psycopg.connect(host="127.0.0.1", port=self.port, connect_timeout=5, **options):
                return "ok"
        except psycopg.OperationalError as exc:
            return str(exc)


def _script(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), command], env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # Directly under /tmp: the server runs as `postgres` when the tests run as root, and may
    # not enter pytest's folders (mode 0700).
    folder = Path(tempfile.gettempdir()) / f"teacher-hiring-pg-security-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {**os.environ, "TH_PG_DIR": str(folder), "TH_PG_PORT": str(port), "TH_PG_AUTH": "scram"}
    started = _script("start", env)
    if started.returncode != 0:
        pytest.fail(f"scripts/postgres.sh start: {started.stderr[-1000:]}")
    urls = dict(line.split("=", 1) for line in started.stdout.splitlines() if "=" in line)
    try:
        yield Cluster(folder, port, urls)
    finally:
        _script("stop", env)
        shutil.rmtree(folder, ignore_errors=True)


def test_each_service_url_logs_its_own_role_in_over_tls(cluster: Cluster) -> None:
    for service in SERVICES:
        url = cluster.urls[f"{service.upper()}_DATABASE_URL"]
        assert "sslmode=verify-ca" in url and f"th_{service}:" in url
        engine = sa.create_engine(url, poolclass=sa.NullPool)
        try:
            with engine.begin() as conn:
                user, tls = conn.execute(
                    sa.text(
                        "SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
                    )
                ).one()
                conn.execute(sa.text("CREATE TABLE IF NOT EXISTS owned_here (id int)"))
        finally:
            engine.dispose()
        assert (user, tls) == (f"th_{service}", True)


def test_a_service_role_cannot_connect_to_another_services_database(cluster: Cluster) -> None:
    hiring = {"user": "th_hiring", "password": cluster.password("th_hiring"), "sslmode": "require"}
    for other in ("th_bonus", "th_exercises", "th_web", "th_test", "postgres"):
        assert "does not have CONNECT privilege" in cluster.connect(dbname=other, **hiring)
    assert cluster.connect(dbname="th_hiring", **hiring) == "ok"


def test_no_password_a_wrong_one_or_no_tls_is_refused(cluster: Cluster) -> None:
    own = {"user": "th_bonus", "dbname": "th_bonus"}
    assert "no password supplied" in cluster.connect(sslmode="require", **own)
    wrong = cluster.connect(sslmode="require", password="guess", **own)
    assert "password authentication failed" in wrong
    plain = cluster.connect(sslmode="disable", password=cluster.password("th_bonus"), **own)
    assert "pg_hba.conf rejects connection" in plain
    superuser = cluster.connect(sslmode="require", user="postgres", dbname="postgres")
    assert "no password supplied" in superuser


def test_the_passwords_are_readable_by_their_owner_only(cluster: Cluster) -> None:
    for role in ("th_exercises", "th_hiring", "th_bonus", "th_web", "teacher_hiring"):
        assert (cluster.folder / "passwords" / role).stat().st_mode & 0o077 == 0
    assert (cluster.folder / "tls" / "ca.key").stat().st_mode & 0o077 == 0


def test_a_service_migrates_its_database_through_the_printed_url(cluster: Cluster) -> None:
    """The URL carries the CA's path, which SQLAlchemy renders %-escaped for alembic."""
    engine = make_engine(cluster.urls["BONUS_DATABASE_URL"])
    try:
        upgrade_to_head(engine, MIGRATIONS)
        with engine.connect() as conn:
            owner = conn.execute(
                sa.text("SELECT tableowner FROM pg_tables WHERE tablename = 'alembic_version'")
            ).scalar_one()
    finally:
        dispose(engine)
    assert owner == "th_bonus"
