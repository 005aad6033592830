"""A Kafka broker of the chaos run's own: scripts/kafka.sh on free ports and a folder of the
run, so that killing it disturbs no other platform or test session on the machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from teacher_hiring.foundation.ports import free_port

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "kafka.sh"
START_TIMEOUT_S = 600.0  # the first start on a machine fetches the jars


SERVICES = ("exercises", "hiring", "bonus")


class ScriptBroker:
    """`security`: sasl_ssl (each service its own credentials and topics) or plaintext, as
    TH_KAFKA_SECURITY of scripts/kafka.sh (the default is the script's: sasl_ssl)."""

    def __init__(
        self, data_dir: Path, port: int | None = None, *, security: str | None = None
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.controller_port = free_port()
        self.security = security or os.environ.get("TH_KAFKA_SECURITY", "sasl_ssl")

    def client_config(self, principal: str) -> Path | None:
        """The client properties of `principal` (admin, exercises, hiring, bonus) on a secured
        broker, None on a plaintext one."""
        if self.security == "plaintext":
            return None
        return self.data_dir / "clients" / f"{principal}.properties"

    def service_clients(self) -> dict[str, Path]:
        """What Deployment.kafka_clients takes: each service's client properties, if any."""
        found = {name: self.client_config(name) for name in SERVICES}
        return {name: path for name, path in found.items() if path is not None}

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _script(self, command: str, timeout_s: float = START_TIMEOUT_S) -> None:
        env = {
            **os.environ,
            "TH_KAFKA_PORT": str(self.port),
            "TH_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "TH_KAFKA_DIR": str(self.data_dir),
            "TH_KAFKA_SECURITY": self.security,
            # The script asks the broker for metadata with confluent-kafka: this Python has it.
            "TH_PYTHON": os.environ.get("TH_PYTHON", sys.executable),
        }
        done = subprocess.run(
            [str(SCRIPT), command],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).strip()
            raise RuntimeError(f"scripts/kafka.sh {command} exited {done.returncode}: {output}")

    def start(self) -> None:
        """Start (again, on its data) and wait until it answers."""
        self._script("start")

    def kill(self) -> None:
        """SIGKILL, as a crash of the machine's JVM would end it."""
        pid = int((self.data_dir / "kafka.pid").read_text().strip())
        os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        self._script("stop", timeout_s=90)

    def answers(self) -> bool:
        """Whether it answers a metadata request now."""
        try:
            self._script("status", timeout_s=30)
        except RuntimeError:
            return False
        return True
