"""Starting, watching and stopping service processes (the CLI's `run` and the end-to-end tests)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from teacher_hiring.foundation.ids import INSTANCE_ENV, INSTANCE_HEADER, new_trace_id
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.runtime import parent_death
from teacher_hiring.runtime.auth_settings import AuthSettings
from teacher_hiring.runtime.proxy import Route
from teacher_hiring.runtime.settings import DEFAULT_PORTS as DEFAULT_PORTS

SERVICES = ("exercises", "hiring", "bonus")
DISTRIBUTED_INSTANCES = dict.fromkeys(SERVICES, 2)
"""The distributed run: two instances of every service, each service behind one address."""
WEB = "web"
WEB_PORT = 8700
"""The web pages (teacher_hiring.web): a process of the platform when `ports` names it."""


def platform_secret() -> str:
    """TEACHER_HIRING_AUTH_SECRET when set, else a fresh random secret (never a public one)."""
    return os.environ.get("TEACHER_HIRING_AUTH_SECRET") or secrets.token_urlsafe(48)


def accepted_keys_json(auth: AuthSettings) -> str:
    """The accepted keys of `auth`, as every process's `*_AUTH_ACCEPTED_KEYS` reads them."""
    return json.dumps(
        [
            {
                "secret": key.secret.get_secret_value(),
                "until": key.until.isoformat() if key.until else None,
            }
            for key in auth.auth_accepted_keys
        ]
    )


def free_instance_ports(instances: Mapping[str, int]) -> dict[str, list[int]]:
    """A free port for each instance of each service that runs several."""
    return {name: [free_port() for _ in range(count)] for name, count in instances.items()}


@dataclass
class Deployment:
    """Where each service listens and keeps its data; turned into each process's environment.

    By default every service is one process on SQLite and the embedded log under `data_dir`,
    listening on the service's port. `database_urls` and `log_url` switch to PostgreSQL and
    Kafka; `instances` runs several processes of a service behind the platform's proxy, which
    listens on the service's port: the instances listen on `instance_ports`, by default 10, 20,
    ... above it (hiring: 8712, 8722). Everything that calls a service uses its one address
    (`url`), the services' links to each other included. Every service gets the same
    `environment` and `auth_secret`, so each verifies the others' tokens.
    """

    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    partitions: int = 6
    extra_env: Mapping[str, str] = field(default_factory=dict)
    database_urls: Mapping[str, str] = field(default_factory=dict)
    log_url: str | None = None
    kafka_clients: Mapping[str, Path] = field(default_factory=dict)
    """Per service, the client properties file naming it to a secured Kafka broker
    (scripts/kafka.sh writes them: <kafka data>/clients/<service>.properties)."""
    kafka_admin_client: Path | None = None
    """The admin's client properties on a secured broker: for the tools that inject or observe
    records on any topic (chaos)."""
    instances: Mapping[str, int] = field(default_factory=dict)
    instance_ports: Mapping[str, Sequence[int]] = field(default_factory=dict)
    topic_prefix: str = ""
    environment: str = "development"
    auth_secret: str = field(default_factory=lambda: platform_secret(), repr=False)
    """By default TEACHER_HIRING_AUTH_SECRET when set, else a random one of its own."""
    auth_accepted_keys: str = field(default="", repr=False)
    """The keys accepted besides the secret, as `*_AUTH_ACCEPTED_KEYS` reads them (JSON)."""

    def count(self, service: str) -> int:
        return self.instances.get(service, 1)

    def proxied(self, service: str) -> bool:
        return self.count(service) > 1

    def port(self, service: str, instance: int = 0) -> int:
        """Where an instance listens: alone, on the service's port; behind the proxy, its own."""
        if not self.proxied(service):
            return self.ports[service] + 10 * instance
        given = self.instance_ports.get(service)
        return given[instance] if given else self.ports[service] + 10 * (instance + 1)

    def url(self, service: str) -> str:
        """The service's one address: its only instance, or the proxy in front of them."""
        return f"http://{self.host}:{self.ports[service]}"

    def instance_url(self, service: str, instance: int = 0) -> str:
        return f"http://{self.host}:{self.port(service, instance)}"

    def names(self) -> tuple[str, ...]:
        """The processes' names: the three services, and the web pages when given a port."""
        return (*SERVICES, WEB) if WEB in self.ports else SERVICES

    def routes(self) -> list[Route]:
        """What the proxy forwards: each service with several instances, to them."""
        return [
            Route(
                (self.host, self.ports[name]),
                tuple((self.host, self.port(name, i)) for i in range(self.count(name))),
            )
            for name in self.names()
            if self.proxied(name)
        ]

    def event_log_url(self) -> str:
        return self.log_url or f"sqlite:///{self.data_dir / 'events.db'}"

    def database_url(self, service: str) -> str:
        return self.database_urls.get(service) or f"sqlite:///{self.data_dir / (service + '.db')}"

    def env_for(self, service: str, instance: int = 0) -> dict[str, str]:
        if service == WEB:
            return self._web_env(instance)
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
            prefix + "AUTH_ACCEPTED_KEYS": self.auth_accepted_keys or "[]",
            "EXERCISES_HIRING_URL": self.url("hiring"),
            "HIRING_EXERCISES_URL": self.url("exercises"),
            "HIRING_BONUS_URL": self.url("bonus"),
            "EXERCISES_BONUS_URL": self.url("bonus"),
            "BONUS_EXERCISES_URL": self.url("exercises"),
            "BONUS_HIRING_URL": self.url("hiring"),
        }
        if service in self.kafka_clients:
            env[prefix + "KAFKA_CLIENT_CONFIG"] = str(self.kafka_clients[service])
        env.update(self.extra_env)
        return env

    def _web_env(self, instance: int) -> dict[str, str]:
        """The web pages call each service at its one address, as the person signed in."""
        env = {
            "WEB_HOST": self.host,
            "WEB_PORT": str(self.port(WEB, instance)),
            "WEB_DATABASE_URL": self.database_url(WEB),
            "WEB_ENVIRONMENT": self.environment,
            "WEB_AUTH_SECRET": self.auth_secret,
            "WEB_AUTH_ACCEPTED_KEYS": self.auth_accepted_keys or "[]",
            "WEB_EXERCISES_URL": self.url("exercises"),
            "WEB_HIRING_URL": self.url("hiring"),
            "WEB_BONUS_URL": self.url("bonus"),
        }
        env.update(self.extra_env)
        return env


class ChildProcess:
    """A process of the platform started by this one, its output in a log file of its own.

    It follows this process (runtime.parent_death): if this one dies without stopping it,
    it stops itself rather than live on holding its port.
    """

    process: subprocess.Popen[bytes] | None
    log_path: Path | None
    instance_id: str = ""  # new at each start: what the process's probes answer with

    @property
    def label(self) -> str:
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        raise NotImplementedError

    def default_log_path(self) -> Path:
        raise NotImplementedError

    def start(self) -> None:
        self.instance_id = new_trace_id()
        env = {
            **os.environ,
            **self.environment(),
            **parent_death.child_env(),
            INSTANCE_ENV: self.instance_id,
        }
        log_path = self.log_path or self.default_log_path()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                self.command(),
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.label} was never started")
        return self.process.pid

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def exited(self) -> RuntimeError:
        """The error for a process that ended while it should run, with its last words."""
        return RuntimeError(f"{self.label} exited with code {self.exit_code()}{self.last_words()}")

    def last_words(self, limit: int = 400) -> str:
        """The log's last line (an exception's message, usually), so the cause is in sight."""
        log_path = self.log_path or self.default_log_path()
        try:
            with log_path.open("rb") as log_file:
                log_file.seek(max(0, log_path.stat().st_size - 8192))
                lines = log_file.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        last = next((line.strip() for line in reversed(lines) if line.strip()), "")
        return f": {last[:limit]}" if last else ""

    def terminate(self) -> None:
        """SIGTERM: stop cleanly, without waiting for it."""
        if self.process is not None and self.running():
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it does not stop in time."""
        if not self.running():
            return
        assert self.process is not None
        self.terminate()
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
class ServiceProcess(ChildProcess):
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
        """This instance's own address (the service's is `deployment.url(name)`)."""
        return self.deployment.instance_url(self.name, self.instance)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "teacher_hiring.cli", "serve", self.name]

    def environment(self) -> dict[str, str]:
        return self.deployment.env_for(self.name, self.instance)

    def default_log_path(self) -> Path:
        return self.deployment.data_dir / "logs" / f"{self.label}.log"

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        last_error = "not started"
        while time.monotonic() < deadline:
            if not self.running():
                raise self.exited()
            try:
                response = httpx.get(self.url + "/ready", timeout=1.0)
                answered_by = response.headers.get(INSTANCE_HEADER)
                if answered_by != self.instance_id:
                    # another process holds the port (ours fails to bind, or is about to)
                    last_error = f"{self.url} is answered by another process ({answered_by})"
                elif response.status_code == 200:
                    return
                else:
                    last_error = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last_error = str(exc)
            time.sleep(0.1)
        raise TimeoutError(f"{self.label} not ready after {timeout_s}s: {last_error}")


@dataclass
class ProxyProcess(ChildProcess):
    """The proxy in front of the services that run several instances (runtime.proxy)."""

    routes: Sequence[Route]
    log_dir: Path
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def label(self) -> str:
        return "proxy"

    def command(self) -> list[str]:
        routes = [arg for route in self.routes for arg in ("--route", str(route))]
        return [sys.executable, "-m", "teacher_hiring.cli", "proxy", *routes]

    def environment(self) -> dict[str, str]:
        return {}

    def default_log_path(self) -> Path:
        return self.log_dir / "proxy.log"

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Until every route's address accepts connections."""
        deadline = time.monotonic() + timeout_s
        waiting = [route.listen for route in self.routes]
        while waiting:
            if not self.running():
                raise self.exited()
            if time.monotonic() > deadline:
                raise TimeoutError(f"proxy not listening on {waiting} after {timeout_s}s")
            waiting = [address for address in waiting if not _accepts(address)]
            time.sleep(0.05 if waiting else 0)


def _accepts(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1.0):
            return True
    except OSError:
        return False


@dataclass
class Platform:
    """The services as separate processes on one machine, and the proxy in front of those
    that run several instances."""

    deployment: Deployment
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    proxy: ProxyProcess | None = None

    def __post_init__(self) -> None:
        for name in self.deployment.names():
            for instance in range(self.deployment.count(name)):
                process = ServiceProcess(name, self.deployment, instance=instance)
                self.processes.setdefault(process.label, process)
        routes = self.deployment.routes()
        if routes and self.proxy is None:
            self.proxy = ProxyProcess(routes, self.deployment.data_dir / "logs")

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.processes[name]

    def children(self) -> list[ChildProcess]:
        """Every process this platform starts: the services' and the proxy."""
        proxy: list[ChildProcess] = [self.proxy] if self.proxy else []
        return [*self.processes.values(), *proxy]

    def start(self, timeout_s: float = 60.0) -> None:
        self.deployment.data_dir.mkdir(parents=True, exist_ok=True)
        for child in self.children():
            child.start()
        for process in self.processes.values():
            process.wait_ready(timeout_s)
        if self.proxy is not None:
            self.proxy.wait_ready(timeout_s)

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

    def revive(self) -> list[tuple[str, int | None]]:
        """Start again every process that exited; (label, exit code) of each."""
        revived = []
        for child in self.children():
            if not child.running():
                revived.append((child.label, child.exit_code()))
                child.start()
        return revived

    def stop(self) -> None:
        """Every process at once, each given its time to stop cleanly."""
        for child in self.children():
            child.terminate()
        for child in self.children():
            child.stop()
