"""A Kafka broker for the tests: the one already answering on the test port, or one that
`scripts/kafka.sh` starts for this session and stops at its end.

A broker that cannot be started skips the Kafka tests on a developer's machine and fails them
in CI (CI=true): there a missing broker is a broken build, not an optional test.

Test processes may overlap (the workers of `pytest -n`, several engineers on one machine): the
broker is started by whichever needs it first and stopped by the last one using it
(tests/shared_server.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from missing_part import missing
from shared_server import SharedServer
from teacher_hiring.chaos.broker import ScriptBroker

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
        # The many Kafka tests share one plaintext broker (a secured one costs each test's
        # clients a TLS and SCRAM handshake); the security tests start a secured one each.
        "TH_KAFKA_SECURITY": "plaintext",
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


def _start() -> None:
    started, output = _script("start", START_TIMEOUT_S)
    if not started:
        _unavailable(output)


def _stop_and_forget() -> None:
    stopped, output = _script("stop", STOP_TIMEOUT_S)
    if not stopped:
        raise RuntimeError(f"scripts/kafka.sh stop failed: {output}")
    shutil.rmtree(DATA_DIR, ignore_errors=True)


def broker_answers() -> bool:
    return _script("status", 30)[0]


SHARED = SharedServer(DATA_DIR, is_up=broker_answers, start=_start, stop=_stop_and_forget)


@contextmanager
def running_broker() -> Iterator[str]:
    """Yields the bootstrap address of a broker that answers."""
    with SHARED.used():
        yield f"127.0.0.1:{PORT}"


@contextmanager
def broker_of_its_own(folder: Path, *, security: str = "plaintext") -> Iterator[ScriptBroker]:
    """A broker on free ports and in a folder of the test's own, to stop, kill or pause: the
    session's is shared with the tests running meanwhile. Stopped at the end. `security`:
    plaintext, or sasl_ssl (SCRAM over TLS, ACLs; its clients' settings in the folder)."""
    broker = ScriptBroker(folder, security=security)
    try:
        broker.start()
    except RuntimeError as exc:
        _unavailable(f"none of the test's own: {exc}")
    try:
        yield broker
    finally:
        broker.stop()
