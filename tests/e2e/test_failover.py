"""Several instances on Kafka and PostgreSQL: one dies mid-stream, the others carry on, and the
money comes out exactly right.

Six partitions, two instances of hiring and two of bonus in the same consumer groups. Clients
behave like a load balancer's: they spread submissions over the hiring instances and, when an
instance stops answering, send the same request (same Idempotency-Key) to the other one, so a
request that was committed just before the kill is answered again, not applied twice.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka.admin import AdminClient

from e2e.platform_api import (
    Api,
    eventually,
    free_port,
    on_kafka_and_postgres,
    running,
)
from integration.kafka_broker import broker_of_its_own
from teacher_hiring.chaos.broker import ScriptBroker
from teacher_hiring.messaging.embedded_log import partition_for_key
from teacher_hiring.runtime.processes import SERVICES, Deployment, Platform, free_instance_ports

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres]

PARTITIONS = 6
CANDIDATES = 60
# A dead member's partitions move after its session timeout (10 s) and a rebalance.
RECOVERY_S = 90.0


def scaled_deployment(tmp_path: Path) -> Deployment:
    instances = {"hiring": 2, "bonus": 2}
    return Deployment(
        data_dir=tmp_path / "var",
        ports={name: free_port() for name in SERVICES},
        partitions=PARTITIONS,
        instances=instances,
        instance_ports=free_instance_ports(instances),
    )


@pytest.fixture
def scaled(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    deployment = scaled_deployment(tmp_path)
    with on_kafka_and_postgres(request, deployment), running(Platform(deployment)) as platform:
        yield platform


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[ScriptBroker]:
    with broker_of_its_own(tmp_path / "kafka") as broker:
        yield broker


@pytest.fixture
def scaled_on_own_broker(
    request: pytest.FixtureRequest, tmp_path: Path, own_broker: ScriptBroker
) -> Iterator[Platform]:
    deployment = scaled_deployment(tmp_path)
    with (
        on_kafka_and_postgres(request, deployment, own_broker.bootstrap),
        running(Platform(deployment)) as platform,
    ):
        yield platform


@dataclass
class Submission:
    candidate_id: str
    exercise_id: str
    version: int
    answer: str
    correct: bool
    key: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class Stream:
    """Submissions sent by a few client threads over the live hiring instances."""

    api: Api
    instances: list[str]
    accepted: list[tuple[Submission, dict[str, Any]]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    retried: int = 0
    done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    turn: Iterator[int] = field(default_factory=itertools.count)

    def send(self, submission: Submission) -> None:
        with self.lock:
            first = next(self.turn)
        for attempt in range(len(self.instances) * 3):
            label = self.instances[(first + attempt) % len(self.instances)]
            try:
                response = self.api.client.post(
                    self.api.platform[label].url
                    + f"/candidates/{submission.candidate_id}/submissions",
                    json={
                        "exercise_id": submission.exercise_id,
                        "exercise_version": submission.version,
                        "answer": submission.answer,
                    },
                    headers={"Idempotency-Key": submission.key}
                    | self.api.as_candidate(submission.candidate_id),
                )
            except httpx.TransportError:
                with self.lock:
                    self.retried += 1
                continue  # the instance is gone: the same request to the next one
            with self.lock:
                self.done += 1
                if response.status_code == 200:
                    self.accepted.append((submission, response.json()))
                else:
                    self.refused.append(f"{response.status_code} {response.text}")
            return
        with self.lock:
            self.refused.append(f"no instance answered {submission}")

    def run(
        self,
        per_candidate: list[list[Submission]],
        *,
        on_half: Callable[[], object] | None = None,
        alongside: Callable[[], object] | None = None,
    ) -> None:
        """Candidates in parallel, each one's answers in order; `on_half` once half are sent,
        `alongside` in a thread of its own from the start. Their exceptions are raised here."""
        total = sum(len(answers) for answers in per_candidate)
        half = threading.Event()

        def answer_in_turn(submissions: list[Submission]) -> None:
            for submission in submissions:
                self.send(submission)
                if on_half and self.done >= total // 2 and not half.is_set():
                    half.set()
                    on_half()

        with ThreadPoolExecutor(max_workers=5) as pool:
            futures = [pool.submit(alongside)] if alongside else []
            futures += [pool.submit(answer_in_turn, answers) for answers in per_candidate]
            for future in futures:
                future.result()


class Groups:
    """The broker's view of a service's consumer groups: which process owns how many partitions
    (a member's client id ends with its process id)."""

    def __init__(self, platform: Platform, service: str) -> None:
        bootstrap = (platform.deployment.log_url or "").removeprefix("kafka://")
        self.admin = AdminClient({"bootstrap.servers": bootstrap})
        self.prefix = platform.deployment.topic_prefix + service + "."
        self.platform = platform

    def owned(self) -> dict[str, Counter[int]]:
        """Per group, partitions owned per process id."""
        listed = self.admin.list_consumer_groups().result().valid
        names = [g.group_id for g in listed if g.group_id.startswith(self.prefix)]
        owned: dict[str, Counter[int]] = {}
        for name, future in self.admin.describe_consumer_groups(names).items():
            members = future.result().members
            owned[name] = Counter(
                {
                    int(m.client_id.rsplit(":", 1)[1]): len(m.assignment.topic_partitions)
                    for m in members
                }
            )
        return owned

    def shared_by(self, labels: list[str]) -> bool:
        pids = {self.platform[label].pid for label in labels}
        owned = self.owned()
        return bool(owned) and all(
            set(by_pid) == pids and all(by_pid.values()) for by_pid in owned.values()
        )

    def owned_by(self, label: str) -> int:
        pid = self.platform[label].pid
        return sum(by_pid[pid] for by_pid in self.owned().values())


def managers_on_every_partition(api: Api) -> dict[str, str]:
    """Managers (one exercise each) until their ids, the money topic's key, cover all partitions:
    whichever partitions the dead instance owned, money flows through them after the kill."""
    answers: dict[str, str] = {}
    covered: set[int] = set()
    n = 0
    while len(covered) < PARTITIONS or n < 8:
        manager = api.manager(f"Manager {n}")
        covered.add(partition_for_key(manager, PARTITIONS))
        answers[api.exercise(manager, f"answer {n}", f"Exercise {n}")] = f"answer {n}"
        n += 1
    return answers


def stream_of_submissions(api: Api, answers: dict[str, str]) -> list[list[Submission]]:
    """Per candidate, an answer to each exercise; every third is wrong first, then right."""
    labels = ["hiring", "hiring-2"]
    per_candidate: list[list[Submission]] = []
    for n in range(CANDIDATES):
        label = labels[n % 2]
        body = {
            "name": f"Candidate {n}",
            "email": f"candidate.{n}.{uuid.uuid4().hex[:6]}@mail.example",
        }
        candidate = api.ok("POST", label, "/candidates", json=body)
        submissions: list[Submission] = []
        per_candidate.append(submissions)
        for i, exercise in enumerate(candidate["exercises"]):
            exercise_id, version = exercise["exercise_id"], exercise["version"]
            args = (candidate["id"], exercise_id, version)
            if (n + i) % 3 == 0:
                submissions.append(Submission(*args, answer="wrong", correct=False))
            submissions.append(Submission(*args, answer=answers[exercise_id], correct=True))
    return per_candidate


def assert_nothing_lost_or_doubled(api: Api, stream: Stream, timeout_s: float = 60) -> None:
    assert not stream.refused, stream.refused[:5]
    correct = [(s, verdict) for s, verdict in stream.accepted if verdict["correct"]]
    assert [s for s, _ in correct] == [s for s, _ in stream.accepted if s.correct]

    # Every accepted submission is stored: each correct one left its exercise solved.
    for candidate_id in {s.candidate_id for s, _ in stream.accepted}:
        solved = {
            e["exercise_id"]
            for e in api.ok("GET", "hiring", f"/candidates/{candidate_id}/exercises")
            if e["solved"]
        }
        expected = {s.exercise_id for s, _ in correct if s.candidate_id == candidate_id}
        assert solved == expected, candidate_id

    # Each first correct answer issued one bonus or fine, and the ledger holds each one once.
    issued = {row["manager_id"]: row for row in api.ok("GET", "hiring", "/totals/issued")["items"]}
    assert sum(r["bonus_count"] + r["fine_count"] for r in issued.values()) == len(correct)

    def ledger_matches() -> dict[str, Any] | None:
        totals = api.ok("GET", "bonus", "/ledger/totals")
        booked = {row["manager_id"]: row for row in totals["items"]}
        fields = ("bonus_count", "fine_count", "bonus_cents", "fine_cents")
        same = all(
            {k: booked.get(m, {}).get(k, 0) for k in fields} == {k: row[k] for k in fields}
            for m, row in issued.items()
        )
        return totals if same else None

    totals = eventually(
        ledger_matches, what="the ledger holds what hiring issued", timeout_s=timeout_s
    )
    assert totals["overall"]["bonus_count"] + totals["overall"]["fine_count"] == len(correct)
    for manager_id in issued:
        entries = api.entries(manager_id)
        keys = Counter(e["business_key"] for e in entries)
        assert all(count == 1 for count in keys.values()), keys.most_common(3)


@pytest.mark.parametrize("service", ["hiring", "bonus"])
def test_an_instance_killed_mid_stream_loses_and_doubles_nothing(
    scaled: Platform, service: str
) -> None:
    api = Api(scaled)
    answers = managers_on_every_partition(api)
    api.hiring_knows(list(answers))
    submissions = stream_of_submissions(api, answers)

    survivor, victim = service, f"{service}-2"
    groups = Groups(scaled, service)
    eventually(
        lambda: groups.shared_by([survivor, victim]),
        what=f"both {service} instances own partitions in each of its groups",
        timeout_s=RECOVERY_S,
    )
    partitions = {group: sum(by_pid.values()) for group, by_pid in groups.owned().items()}
    owned_by_victim: list[int] = []

    def kill_victim() -> None:
        owned_by_victim.append(groups.owned_by(victim))
        scaled[victim].kill()

    stream = Stream(api, instances=["hiring", "hiring-2"])
    stream.run(submissions, on_half=kill_victim)
    assert not scaled[victim].running()
    assert owned_by_victim[0] > 0, "the victim owned no partition when it was killed"
    survivor_pid = scaled[survivor].pid
    eventually(
        lambda: groups.owned() == {g: Counter({survivor_pid: n}) for g, n in partitions.items()},
        what=f"the surviving {service} instance owns every partition",
        timeout_s=RECOVERY_S,
    )
    if service == "hiring":
        assert stream.retried > 0, "no request met the dead instance"

    # Hiring's consumers still cover every partition: exercises created now reach its replica.
    late_author, late, covered = api.manager("Late manager"), [], set()
    while len(covered) < PARTITIONS:
        late.append(api.exercise(late_author, "late", f"Late {len(late)}"))
        covered.add(partition_for_key(late[-1], PARTITIONS))
    api.hiring_knows(late, timeout_s=RECOVERY_S)

    assert_nothing_lost_or_doubled(api, stream)
    assert all(scaled[label].running() for label in scaled.processes if label != victim)


def test_a_broker_restart_mid_stream_loses_and_doubles_nothing(
    scaled_on_own_broker: Platform, own_broker: ScriptBroker
) -> None:
    """Submissions go on while the broker stops, while it is down, and while it starts again:
    hiring answers from its own database, the outboxes keep the events, and everything arrives
    once the broker is back."""
    scaled = scaled_on_own_broker
    api = Api(scaled)
    answers = managers_on_every_partition(api)
    api.hiring_knows(list(answers))
    submissions = stream_of_submissions(api, answers)
    before, during, after = (submissions[n::3] for n in range(3))
    stream = Stream(api, instances=["hiring", "hiring-2"])

    stream.run(before, alongside=own_broker.stop)
    assert not own_broker.answers()
    accepted_before = len(stream.accepted)
    stream.run(during)
    assert len(stream.accepted) > accepted_before, "nothing was accepted while Kafka was down"
    stream.run(after, alongside=own_broker.start)

    assert own_broker.answers()
    assert_nothing_lost_or_doubled(api, stream, timeout_s=RECOVERY_S)
    assert all(process.running() for process in scaled.processes.values())
