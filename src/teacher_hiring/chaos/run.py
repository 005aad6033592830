"""One chaos run against a started platform: users at work, the schedule of faults, the
settling, the checks."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console

from teacher_hiring.chaos import observe
from teacher_hiring.chaos.checks import Accepted, Observed, Stored, Verdict, judge
from teacher_hiring.chaos.faults import Broker, Injected, Injector, Outages
from teacher_hiring.chaos.schedule import Fault, Plan, schedule
from teacher_hiring.chaos.users import ChaosUsers
from teacher_hiring.foundation.pages import now_text
from teacher_hiring.messaging.kafka_access import read_client_config
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.transport import TransportError
from teacher_hiring.runtime.processes import SERVICES, Platform
from teacher_hiring.runtime.tokens import Role, Tokens
from teacher_hiring.runtime.transports import make_transport
from teacher_hiring.simulation import SimulationConfig

READY_TIMEOUT_S = 180.0
OBSERVE_PAUSE_S = 2.0


@dataclass(frozen=True)
class ChaosConfig:
    seconds: float = 60.0
    seed: int = 1
    kill_interval_s: float = 5.0
    duplicate_interval_s: float = 2.0
    poison_interval_s: float = 3.0
    outage_interval_s: float = 6.0
    broker_kill_interval_s: float = 60.0
    managers: int = 3
    exercises: int = 12
    concurrency: int = 4
    skill: float = 0.6
    settle_timeout_s: float = 180.0


@dataclass
class ChaosReport:
    deployment: str
    config: ChaosConfig
    injected: Injected
    users: Counter[str]
    retries: Counter[str]
    user_errors: list[str]
    accepted: list[Accepted]
    events: int = 0
    seconds: float = 0.0
    settle_seconds: float = 0.0
    verdict: Verdict | None = None
    problems: list[str] = field(default_factory=list)  # the run itself could not do something
    on_the_way: dict[str, str] = field(default_factory=dict)  # per process, if it did not settle

    @property
    def ok(self) -> bool:
        return self.verdict is not None and self.verdict.ok and not self.problems


class ChaosRun:
    def __init__(
        self,
        platform: Platform,
        config: ChaosConfig,
        *,
        deployment: str = "embedded",
        broker: Broker | None = None,
        console: Console | None = None,
    ) -> None:
        self.platform = platform
        self.label = deployment
        self.config = config
        self.broker = broker
        self.console = console or Console()
        where = platform.deployment
        self.registry = SchemaRegistry.load()
        admin = where.kafka_admin_client
        self.kafka_admin = read_client_config(admin) if admin else None
        self.transport = make_transport(
            where.event_log_url(),
            partitions=where.partitions,
            topic_prefix=where.topic_prefix,
            client_id="chaos",
            client_config=self.kafka_admin,
        )
        token = Tokens(where.auth_secret).mint(Role.operator, "chaos", 24 * 3600)
        self.operator_token = token
        self.services = observe.Services(
            {name: where.url(name) for name in SERVICES},
            {"Authorization": f"Bearer {token}"},
        )
        self.injector = Injector(
            platform,
            self.transport,
            self.registry,
            Outages({name: where.database_url(name) for name in SERVICES}),
            broker,
        )

    def plan(self) -> Plan:
        return Plan(
            seconds=self.config.seconds,
            kill_targets=list(self.platform.processes),
            topics=self.registry.topics(),
            databases=SERVICES,
            kill_interval_s=self.config.kill_interval_s,
            broker_kill_interval_s=0.0
            if self.broker is None
            else self.config.broker_kill_interval_s,
            duplicate_interval_s=self.config.duplicate_interval_s,
            poison_interval_s=self.config.poison_interval_s,
            outage_interval_s=self.config.outage_interval_s,
        )

    def _users(self) -> ChaosUsers:
        """Users reach each service at its one address, as real ones would: its only process,
        or the proxy in front of its instances."""
        deployment = self.platform.deployment
        urls = {name: [deployment.url(name)] for name in SERVICES}
        config = SimulationConfig(
            candidates=0,
            managers=self.config.managers,
            exercises=self.config.exercises,
            skill=self.config.skill,
            concurrency=self.config.concurrency,
            seed=self.config.seed,
            exercises_url=deployment.url("exercises"),
            hiring_url=deployment.url("hiring"),
            bonus_url=deployment.url("bonus"),
            operator_token=self.operator_token,
        )
        return ChaosUsers(config, urls, console=self.console)

    def run(self, faults: list[Fault] | None = None) -> ChaosReport:
        """The run, with the faults of the seed's schedule, or with `faults` when given."""
        started_at = now_text(minus_s=60)
        faults = schedule(self.plan(), self.config.seed) if faults is None else faults
        users = self._users()
        report = ChaosReport(
            self.label,
            self.config,
            self.injector.injected,
            users.report.counts,
            users.retries,
            users.errors,
            users.accepted,
        )
        try:
            users.prepare()
            stop = threading.Event()
            worker = threading.Thread(target=users.work, args=(stop,), name="users")
            began = time.monotonic()
            worker.start()
            try:
                with self.console.status(f"{len(faults)} faults over {self.config.seconds:.0f}s"):
                    for fault in faults:
                        _sleep_until(began + fault.at_s)
                        self.injector.apply(fault)
                    _sleep_until(began + self.config.seconds)
                report.seconds = time.monotonic() - began
            finally:
                stop.set()
                worker.join()
            self.injector.finish()  # what is still waiting in its lane, the broker's restart
            settling = time.monotonic()
            with self.console.status("settling: every process back, the checks until they hold"):
                self._everything_back()
                report.verdict = self._settle(users, started_at)
                if not report.verdict.ok:
                    report.on_the_way = observe.on_the_way(
                        {label: p.url for label, p in self.platform.processes.items()}
                    )
                    log_url = self.platform.deployment.log_url or ""
                    if log_url.startswith("kafka://"):
                        view = observe.broker_view(
                            log_url.removeprefix("kafka://"), self.transport, self.kafka_admin
                        )
                        report.on_the_way.update({f"group {g}": v for g, v in view.items()})
            report.settle_seconds = time.monotonic() - settling
            report.events = observe.events_on_topics(self.transport, self.registry.topics()) - (
                len(self.injector.injected.delivered) + len(self.injector.injected.poison)
            )
        except (observe.ServiceError, TransportError, TimeoutError, RuntimeError) as exc:
            report.problems.append(str(exc))
        finally:
            self.injector.close()
            self.services.close()
            self.transport.close()
        return report

    def _everything_back(self) -> None:
        self.injector.wait_for_broker(READY_TIMEOUT_S)
        for process in self.platform.processes.values():
            if not process.running():
                process.start()
        for process in self.platform.processes.values():
            process.wait_ready(READY_TIMEOUT_S)

    def _settle(self, users: ChaosUsers, since: str) -> Verdict:
        """Judge what was observed until every check holds or the settling time is over:
        events on their way (after a rebalance, a backlog) are not violations yet."""
        stored: dict[str, list[Stored]] = observe.stored_submissions(
            self.services, [a.candidate_id for a in users.accepted]
        )
        deadline = time.monotonic() + self.config.settle_timeout_s
        while True:
            try:
                seen: Observed = observe.observe(
                    self.services,
                    self.transport,
                    self.registry,
                    accepted=users.accepted,
                    stored=stored,
                    poison=self.injector.injected.poison,
                    since=since,
                    until=now_text(),
                )
            except (observe.ServiceError, TransportError):
                if time.monotonic() > deadline:
                    raise  # a service or the log that does not answer for so long is a finding
                time.sleep(OBSERVE_PAUSE_S)
                continue
            verdict = judge(seen)
            if verdict.ok or time.monotonic() > deadline:
                return verdict
            time.sleep(OBSERVE_PAUSE_S)


def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)
