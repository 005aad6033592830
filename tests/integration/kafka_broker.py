"""A Kafka broker for the tests: the one already answering on the test port, or one that
`scripts/kafka.sh` starts for this session and stops at its end.

A broker that cannot be started skips the Kafka tests on a developer's machine and fails them
in CI (CI=true): there a missing broker is a broken build, not an optional test.

Test sessions may overlap (several engineers, one machine): each holds a shared lock while it
uses the broker, and the session that started it stops it only if no other one holds the lock.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NoReturn

from missing_part import missing

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "kafka.sh"
PORT, CONTROLLER_PORT = 19092, 19093
DATA_DIR = Path(tempfile.gettempdir()) / f"teacher-hiring-kafka-test-{os.getuid()}"
START_TIMEOUT_S = 600.0  # the first start on a machine fetches the jars
STOP_TIMEOUT_S = 60.0


def _script(command: str, timeout_s: float) -> tuple[bool, str]:
    env = {
        **os.environ,
        "TH_KAFKA_PORT": str(PORT),
        "TH_KAFKA_CONTROLLER_PORT": str(CONTROLLER_PORT),
        "TH_KAFKA_DIR": str(DATA_DIR),
    }
    try:
        done = subprocess.run(
            [str(SCRIPT), command],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, f"scripts/kafka.sh {command} did not finish in {timeout_s:.0f}s"
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def _unavailable(message: str) -> NoReturn:
    missing(f"no Kafka broker for the tests: {message}")


@contextmanager
def running_broker() -> Iterator[str]:
    """Yields the bootstrap address of a broker that answers."""
    users = Path(f"{DATA_DIR}.users").open("w")  # noqa: SIM115 - held for the whole session
    try:
        fcntl.flock(users, fcntl.LOCK_SH)
        started = False
        answering, _ = _script("status", 30)
        if not answering:
            started, output = _script("start", START_TIMEOUT_S)
            if not started:
                _unavailable(output)
        yield f"127.0.0.1:{PORT}"
        if started:
            _stop_unless_in_use(users)
    finally:
        users.close()


def _stop_unless_in_use(users: IO[str]) -> None:
    try:
        fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another session still uses it; it stays up for the next one
    stopped, output = _script("stop", STOP_TIMEOUT_S)
    if not stopped:
        raise RuntimeError(f"scripts/kafka.sh stop failed: {output}")
    shutil.rmtree(DATA_DIR, ignore_errors=True)


def stop_broker() -> None:
    """Stops the test broker (SIGTERM, a controlled shutdown); its data stays for the restart."""
    stopped, output = _script("stop", STOP_TIMEOUT_S)
    if not stopped:
        raise RuntimeError(f"scripts/kafka.sh stop failed: {output}")


def start_broker() -> None:
    """Starts the test broker again on its data and waits until it answers."""
    started, output = _script("start", START_TIMEOUT_S)
    if not started:
        raise RuntimeError(f"scripts/kafka.sh start failed: {output}")


def broker_answers() -> bool:
    return _script("status", 30)[0]
