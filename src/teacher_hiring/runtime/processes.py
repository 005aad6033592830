"""Starting, watching and stopping service processes (the CLI's `run` and the end-to-end tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVICES = ("exercises", "hiring", "bonus")
DEFAULT_PORTS = {"exercises": 8701, "hiring": 8702, "bonus": 8703}


@dataclass
class Deployment:
    """Where each service listens and keeps its data; turned into each process's environment."""

    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    partitions: int = 6
    extra_env: Mapping[str, str] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://{self.host}:{self.ports[service]}"

    def event_log_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'events.db'}"

    def env_for(self, service: str) -> dict[str, str]:
        prefix = service.upper() + "_"
        env = {
            prefix + "HOST": self.host,
            prefix + "PORT": str(self.ports[service]),
            prefix + "DATABASE_URL": f"sqlite:///{self.data_dir / (service + '.db')}",
            prefix + "EVENT_LOG_URL": self.event_log_url(),
            prefix + "PARTITIONS": str(self.partitions),
            "EXERCISES_HIRING_URL": self.url("hiring"),
            "BONUS_EXERCISES_URL": self.url("exercises"),
        }
        env.update(self.extra_env)
        return env


@dataclass
class ServiceProcess:
    name: str
    deployment: Deployment
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return self.deployment.url(self.name)

    def start(self) -> None:
        env = {**os.environ, **self.deployment.env_for(self.name)}
        log_path = self.log_path or self.deployment.data_dir / "logs" / f"{self.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "teacher_hiring.cli", "serve", self.name],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        last_error = "not started"
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited with code {self.exit_code()}")
            try:
                response = httpx.get(self.url + "/ready", timeout=1.0)
                if response.status_code == 200:
                    return
                last_error = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last_error = str(exc)
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout_s}s: {last_error}")

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it does not stop in time."""
        if not self.running():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: the crash case, nothing gets to clean up."""
        if self.process is not None and self.running():
            self.process.kill()
            self.process.wait(10)


@dataclass
class Platform:
    """The three services as separate processes on one machine."""

    deployment: Deployment
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in SERVICES:
            self.processes.setdefault(name, ServiceProcess(name, self.deployment))

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.processes[name]

    def start(self, timeout_s: float = 60.0) -> None:
        self.deployment.data_dir.mkdir(parents=True, exist_ok=True)
        for process in self.processes.values():
            process.start()
        for process in self.processes.values():
            process.wait_ready(timeout_s)

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()
