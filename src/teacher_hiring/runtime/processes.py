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

from teacher_hiring.runtime.auth_settings import DEVELOPMENT_SECRET

SERVICES = ("exercises", "hiring", "bonus")
DEFAULT_PORTS = {"exercises": 8701, "hiring": 8702, "bonus": 8703}


@dataclass
class Deployment:
    """Where each service listens and keeps its data; turned into each process's environment.

    By default every service is one process on SQLite and the embedded log under `data_dir`.
    `database_urls` and `log_url` switch to PostgreSQL and Kafka; `instances` runs several
    processes of a service, on consecutive ports 10 apart (8702, 8712, ...). Every service
    gets the same `environment` and `auth_secret`, so each verifies the others' tokens.
    """

    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    partitions: int = 6
    extra_env: Mapping[str, str] = field(default_factory=dict)
    database_urls: Mapping[str, str] = field(default_factory=dict)
    log_url: str | None = None
    instances: Mapping[str, int] = field(default_factory=dict)
    topic_prefix: str = ""
    environment: str = "development"
    auth_secret: str = field(default=DEVELOPMENT_SECRET, repr=False)

    def port(self, service: str, instance: int = 0) -> int:
        return self.ports[service] + 10 * instance

    def url(self, service: str, instance: int = 0) -> str:
        return f"http://{self.host}:{self.port(service, instance)}"

    def event_log_url(self) -> str:
        return self.log_url or f"sqlite:///{self.data_dir / 'events.db'}"

    def database_url(self, service: str) -> str:
        return self.database_urls.get(service) or f"sqlite:///{self.data_dir / (service + '.db')}"

    def env_for(self, service: str, instance: int = 0) -> dict[str, str]:
        prefix = service.upper() + "_"
        env = {
            prefix + "HOST": self.host,
            prefix + "PORT": str(self.port(service, instance)),
            prefix + "DATABASE_URL": self.database_url(service),
            prefix + "EVENT_LOG_URL": self.event_log_url(),
            prefix + "PARTITIONS": str(self.partitions),
            prefix + "TOPIC_PREFIX": self.topic_prefix,
            prefix + "ENVIRONMENT": self.environment,
            prefix + "AUTH_SECRET": self.auth_secret,
            "EXERCISES_HIRING_URL": self.url("hiring"),
            "HIRING_EXERCISES_URL": self.url("exercises"),
            "HIRING_BONUS_URL": self.url("bonus"),
            "EXERCISES_BONUS_URL": self.url("bonus"),
            "BONUS_EXERCISES_URL": self.url("exercises"),
            "BONUS_HIRING_URL": self.url("hiring"),
        }
        env.update(self.extra_env)
        return env


@dataclass
class ServiceProcess:
    name: str
    deployment: Deployment
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    instance: int = 0

    @property
    def label(self) -> str:
        return self.name if self.instance == 0 else f"{self.name}-{self.instance + 1}"

    @property
    def url(self) -> str:
        return self.deployment.url(self.name, self.instance)

    def start(self) -> None:
        env = {**os.environ, **self.deployment.env_for(self.name, self.instance)}
        log_path = self.log_path or self.deployment.data_dir / "logs" / f"{self.label}.log"
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
                raise RuntimeError(f"{self.label} exited with code {self.exit_code()}")
            try:
                response = httpx.get(self.url + "/ready", timeout=1.0)
                if response.status_code == 200:
                    return
                last_error = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last_error = str(exc)
            time.sleep(0.1)
        raise TimeoutError(f"{self.label} not ready after {timeout_s}s: {last_error}")

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.label} was never started")
        return self.process.pid

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
            for instance in range(self.deployment.instances.get(name, 1)):
                process = ServiceProcess(name, self.deployment, instance=instance)
                self.processes.setdefault(process.label, process)

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.processes[name]

    def start(self, timeout_s: float = 60.0) -> None:
        self.deployment.data_dir.mkdir(parents=True, exist_ok=True)
        for process in self.processes.values():
            process.start()
        for process in self.processes.values():
            process.wait_ready(timeout_s)

    def restart(self, label: str, *, crash: bool = False) -> ServiceProcess:
        """Start one process again on the same settings: after SIGKILL when `crash` (nothing
        gets to clean up, as in a real crash), after a clean stop otherwise. Returns at once;
        `wait_ready` on the result waits for it to serve."""
        process = self.processes[label]
        if crash:
            process.kill()
        else:
            process.stop()
        process.start()
        return process

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()
