"""The platform under test: its processes, the tokens the bench calls it with, its workload,
and what it reports (money issued and booked, requests received, reconciliation).

Embedded (SQLite and the embedded log, one process per service) by default; `distributed`
runs it on Kafka and PostgreSQL, started with scripts/ (bench/lib/kafka_pg.py).
"""

from __future__ import annotations

import os
import random
import secrets
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from bench.lib import kafka_pg
from bench.lib.cpu import cpu_of
from bench.lib.load import Request, post_all
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.runtime.processes import SERVICES, Deployment, Platform, platform_secret
from teacher_hiring.runtime.tokens import Role, Tokens
from teacher_hiring.runtime.wiring import OWNERS, PRESETS, Wiring, wiring_env

EXERCISES_PER_CANDIDATE = 20
"""Assigned at registration: every (candidate, exercise) is submitted once, and candidates are
all registered before the first measurement (an exercise leaks at its 11th completion and is
assigned to nobody after), so the more each holds, the fewer registrations a run needs."""


LOAD_GENERATOR = "load generator"


# The bench's platforms and its tokens share one secret, made for this run (a Deployment passes
# TEACHER_HIRING_AUTH_SECRET on to its processes): no secret is built in.
os.environ.setdefault("TEACHER_HIRING_AUTH_SECRET", secrets.token_urlsafe(48))


class Credentials:
    """Bearer tokens minted as every service verifies them: HS256 under the platform's secret
    (this run's, as the Deployment hands it to every service), docs/security.md."""

    def __init__(self, secret: str | None = None) -> None:
        self.tokens = Tokens(secret or platform_secret())
        self._cache: dict[tuple[Role, str], dict[str, str]] = {}

    def headers(self, role: Role, subject: str) -> dict[str, str]:
        key = (role, subject)
        if key not in self._cache:
            token = self.tokens.mint(role, subject, 24 * 3600)
            self._cache[key] = {"Authorization": f"Bearer {token}"}
        return self._cache[key]

    def operator(self) -> dict[str, str]:
        return self.headers(Role.operator, "bench")

    def manager(self, manager_id: str) -> dict[str, str]:
        return self.headers(Role.manager, manager_id)

    def candidate(self, candidate_id: str) -> dict[str, str]:
        return self.headers(Role.candidate, candidate_id)


@dataclass
class UnderTest:
    """A running platform and a client of it."""

    platform: Platform
    distributed: bool
    exercises_per_candidate: int = EXERCISES_PER_CANDIDATE
    """What hiring assigns each candidate at registration, as it was started with."""
    credentials: Credentials = field(default_factory=Credentials)
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def url(self, service: str) -> str:
        """The service's one address (the proxy's, if it ran several instances)."""
        return self.platform.deployment.url(service)

    def get(self, service: str, path: str, **params: Any) -> Any:
        response = self.client.get(
            self.url(service) + path, params=params, headers=self.credentials.operator()
        )
        response.raise_for_status()
        return response.json()

    def wire(self, wiring: Wiring) -> None:
        """Every link to its mode in `wiring`, hiring's first (as runtime.wiring.apply does),
        as an operator."""
        for link, mode in PRESETS[wiring].items():
            self.set_link(link, mode)

    def set_link(self, link: str, mode: str) -> None:
        owner = OWNERS[link]
        response = self.client.put(
            f"{self.url(owner)}/operator/links/{link}",
            json={"mode": mode},
            headers=self.credentials.operator(),
        )
        response.raise_for_status()

    def kill(self, service: str) -> None:
        self.platform[service].kill()

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) so far of each service's process, and of this one: the
        load generator, which takes its share of the same 2 cores."""
        spent = {}
        for name in SERVICES:
            seconds = cpu_of(self.platform[name].pid)
            if seconds is None:
                raise RuntimeError(f"{name} is not running")
            spent[name] = seconds
        mine = os.times()
        spent[LOAD_GENERATOR] = mine.user + mine.system
        return spent

    def revive(self, service: str) -> float:
        """Start a killed service again; seconds until it answers /ready."""
        started = time.perf_counter()
        self.platform[service].start()
        self.platform[service].wait_ready(120)
        return time.perf_counter() - started

    # -- money --

    def money_issued(self) -> int:
        """Bonuses and fines hiring issued, and payments exercises issued."""
        return self.hiring_issued() + self.exercises_paid()

    def hiring_issued(self) -> int:
        """Bonuses and fines hiring issued."""
        items = self.get("hiring", "/totals/issued")["items"]
        return sum(int(r["bonus_count"] + r["fine_count"]) for r in items)

    def exercises_paid(self) -> int:
        """Payments exercises issued."""
        return sum(int(r["payment_count"]) for r in self.get("exercises", "/totals/issued"))

    def money_booked(self) -> int:
        overall = self.get("bonus", "/ledger/totals")["overall"]
        return int(overall["bonus_count"] + overall["fine_count"] + overall["payment_count"])

    def wait_for_ledger(self, timeout_s: float = 180, issued: int | None = None) -> float:
        """Seconds until the ledger holds as many entries as money was issued (or `issued`, a
        count known while a service that issues money is down)."""
        started = time.perf_counter()
        deadline = time.monotonic() + timeout_s
        while True:
            booked = self.money_booked()
            issued = self.money_issued() if issued is None else issued
            if booked >= issued:
                return time.perf_counter() - started
            if time.monotonic() > deadline:
                raise TimeoutError(f"the ledger holds {booked} entries, {issued} issued")
            time.sleep(0.1)

    def backlog(self) -> float:
        """Records the services' consumers have not committed, and outbox rows not yet sent
        (their /metrics: consumer_lag is reported about once a second, outbox_backlog on each
        read)."""
        return sum(
            sample.value
            for service in SERVICES
            for sample in self.metric_samples(service)
            if sample.name in ("consumer_lag", "outbox_backlog")
        )

    def settle(self) -> float:
        """Between measurements: seconds until the ledger holds what was issued, then until
        every consumer and relay has caught up."""
        booked_s = self.wait_for_ledger()
        self.wait_until_caught_up()
        return booked_s

    def wait_until_caught_up(self, timeout_s: float = 300) -> float:
        """Seconds until every consumer and relay has nothing left, twice over a lag report's
        interval: the next measurement then shares the machine with no catching up (a revived
        exercises reading the candidates registered meanwhile, say)."""
        started = time.perf_counter()
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while quiet < 2:
            if time.monotonic() > deadline:
                raise TimeoutError(f"still {self.backlog():.0f} records to consume or relay")
            quiet = quiet + 1 if self.backlog() == 0 else 0
            time.sleep(1.1)
        return time.perf_counter() - started

    def reconcile(self) -> dict[str, Any]:
        """Bonus's reconciliation of everything issued so far against its ledger."""
        until = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        since = (datetime.now(UTC) - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        report: dict[str, Any] = self.get(
            "bonus", "/operator/reconciliation", since=since, until=until
        )
        return report

    # -- requests received --

    def metric_samples(self, service: str) -> Iterator[Sample]:
        """Every sample of the service's /metrics, as it is now."""
        text = self.client.get(
            self.url(service) + "/metrics", headers=self.credentials.operator()
        ).text
        for family in text_string_to_metric_families(text):
            yield from family.samples

    def requests_received(self, service: str) -> dict[tuple[str, str], float]:
        """http_requests_total of one service by (method, route)."""
        counts: dict[tuple[str, str], float] = {}
        for sample in self.metric_samples(service):
            if sample.name == "http_requests_total":
                key = (sample.labels.get("method", ""), sample.labels.get("route", ""))
                counts[key] = counts.get(key, 0.0) + sample.value
        return counts


UNLIMITED_REGISTRATIONS = {"HIRING_REGISTRATIONS_IN_ALL": "0", "WEB_REGISTRATIONS_IN_ALL": "0"}
"""A bench registers thousands of candidates at once: the registration limit on everyone
(docs/security.md) is off on the platforms it starts; the per-address one does not count the
machine's own address anyway."""


@contextmanager
def running(
    *,
    distributed: bool,
    wiring: Wiring = "after",
    extra_env: dict[str, str] | None = None,
    exercises_per_candidate: int = EXERCISES_PER_CANDIDATE,
) -> Iterator[UnderTest]:
    """Start the three services on fresh data; stop them (and what was started for them)."""
    env = {
        "HIRING_EXERCISES_PER_CANDIDATE": str(exercises_per_candidate),
        **UNLIMITED_REGISTRATIONS,
        **wiring_env(wiring),
        **(extra_env or {}),
    }
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="th-bench-")))
        kwargs: dict[str, Any] = {}
        if distributed:
            servers = kafka_pg.Servers()
            stack.callback(servers.stop)  # also what it started before one that failed
            servers.ensure()
            run_id = uuid.uuid4().hex[:10]
            prefix = f"bench-{run_id}."
            kwargs["database_urls"] = stack.enter_context(kafka_pg.bench_databases(run_id))
            kwargs["log_url"] = f"kafka://{kafka_pg.KAFKA}"
            kwargs["topic_prefix"] = prefix
            stack.callback(kafka_pg.delete_topics, prefix)
        deployment = Deployment(
            data_dir=tmp / "var",
            ports={name: free_port() for name in SERVICES},
            extra_env=env,
            **kwargs,
        )
        platform = Platform(deployment)
        stack.callback(platform.stop)
        platform.start(120)
        under_test = UnderTest(platform, distributed, exercises_per_candidate)
        stack.callback(under_test.client.close)
        try:
            yield under_test
        except BaseException:
            print_logs(deployment)
            raise


def print_logs(deployment: Deployment, lines: int = 30) -> None:
    for path in sorted((deployment.data_dir / "logs").glob("*.log")):
        print(f"--- {path.name}, last {lines} lines")
        print("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))


@dataclass
class Workload:
    """Managers, their exercises and registered candidates; the measured requests are the
    candidates' submissions, each (candidate, exercise) once, right with `skill`."""

    target: UnderTest
    seed: int = 1
    skill: float = 0.7
    authors: list[str] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    pending: list[Request] = field(default_factory=list)

    def setup(self, managers: int, exercises: int) -> None:
        self.authors = self.create_managers(managers)
        self.create_exercises(exercises)

    def create_managers(self, count: int) -> list[str]:
        creds = self.target.credentials
        bodies = [
            Request(
                "/managers",
                {
                    "first_name": "Bench",
                    "last_name": f"Manager {i}",
                    "team": "bench",
                    "email": f"m{i}.{uuid.uuid4().hex[:6]}@bench.example",
                },
                creds.operator(),
            )
            for i in range(count)
        ]
        return [str(m["id"]) for m in post_all(self.target.url("exercises"), bodies, 1)]

    def create_exercises(
        self, count: int, authors: list[str] | None = None, subject: str | None = None
    ) -> list[str]:
        """Exercises with one accepted answer each; waits until hiring's replica holds them."""
        authors = authors or self.authors
        creds = self.target.credentials
        before = self.target.get("hiring", "/exercises", limit=1000)["items"]
        requests = []
        for i in range(count):
            author = authors[i % len(authors)]
            answer = f"answer {len(self.answers) + i}"
            body = {
                "author_id": author,
                "title": f"Bench exercise {len(self.answers) + i}",
                "statement": "What is the answer?",
                "accepted_answers": [answer],
                "check_mode": "normalized",
                "difficulty": 1 + i % 5,
                **({"subject": subject} if subject else {}),
            }
            requests.append(Request("/exercises", body, creds.manager(author)))
        created = post_all(self.target.url("exercises"), requests, 1)
        ids = []
        for request, exercise in zip(requests, created, strict=True):
            self.answers[str(exercise["id"])] = request.body["accepted_answers"][0]
            ids.append(str(exercise["id"]))
        deadline = time.monotonic() + 60
        while (
            len(self.target.get("hiring", "/exercises", limit=1000)["items"]) < len(before) + count
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("hiring's replica did not learn the exercises")
            time.sleep(0.05)
        return ids

    def register(self, submissions: int) -> None:
        """Register enough candidates for `submissions` more submissions (shuffled)."""
        rng = random.Random(self.seed + len(self.pending))
        candidates = submissions // self.target.exercises_per_candidate + 1
        requests = [
            Request(
                "/candidates",
                {"name": f"Bench candidate {n}", "email": f"c{uuid.uuid4().hex}@bench.example"},
                {"Idempotency-Key": uuid.uuid4().hex},
            )
            for n in range(candidates)
        ]
        work = []
        for candidate in post_all(self.target.url("hiring"), requests, 8):
            headers = self.target.credentials.candidate(str(candidate["id"]))
            for exercise in candidate["exercises"]:
                right = rng.random() < self.skill
                answer = self.answers.get(exercise["exercise_id"], "?") if right else "wrong"
                work.append(
                    Request(
                        f"/candidates/{candidate['id']}/submissions",
                        {
                            "exercise_id": exercise["exercise_id"],
                            "exercise_version": exercise["version"],
                            "answer": answer,
                        },
                        headers,
                    )
                )
        rng.shuffle(work)
        self.pending.extend(work)
        if len(work) < submissions:
            raise RuntimeError(f"registered for {len(work)} submissions, {submissions} wanted")

    def take(self, count: int) -> list[Request]:
        if count > len(self.pending):
            raise RuntimeError(f"{count} submissions wanted, {len(self.pending)} registered")
        taken, self.pending = self.pending[:count], self.pending[count:]
        return taken
