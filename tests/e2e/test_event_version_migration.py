"""US-160 and US-170 migrated as the second document lists its steps, under traffic, on both
deployments (embedded log and SQLite; Kafka and PostgreSQL).

The seed's steps ("Миграция под новые требования"), for the exercise events (US-160) and the
manager events (US-170) together:
1. version 0 in the registry, and produced      -> the platform starts with both flags at 0
2. version 1 added to the registry              -> v0.json and v1.json of each event
3. the consumers handle version 1               -> v1 events written to the log while exercises
                                                   still produces v0 are applied by hiring and bonus
4. version 1 produced                           -> both flags flipped at run time (CLI and HTTP),
                                                   with hiring and bonus stopped meanwhile, so both
                                                   versions wait in the log and are read in order
5. version 0 no longer produced                 -> every outbox row after the flip is v1
6. wait until every old event is consumed       -> every event produced is applied, once
7. clean the code                               -> a code change, not a run-time step: see
                                                   docs/runbooks/event-versions.md

All the while candidates register and submit answers, and managers edit exercises and managers.
At the end nothing is lost or doubled: each replica holds what the last event of each exercise
and manager says (the v1 fields, or the defaults and the split name of v0), every event was
applied exactly once by each consumer, every accepted submission is stored, and the bonus
ledger holds exactly the money that hiring and exercises issued.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from e2e.platform_api import Api, eventually
from teacher_hiring.cli import app
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.tables import inbox, outbox
from teacher_hiring.messaging.transport import OutgoingMessage, Transport
from teacher_hiring.messaging.wire import RecordCodec
from teacher_hiring.runtime.processes import Platform
from teacher_hiring.runtime.transports import make_transport

pytestmark = pytest.mark.e2e

EXERCISE_EVENTS = ("ExerciseCreated", "ExerciseUpdated")
MANAGER_EVENTS = ("ManagerCreated", "ManagerUpdated")
SUBJECTS = ("general", "mathematics")
CONSUMERS = {  # consumer group -> (its service, the events it reads)
    "hiring.exercises": ("hiring", EXERCISE_EVENTS),
    "hiring.managers": ("hiring", MANAGER_EVENTS),
    "bonus.managers": ("bonus", MANAGER_EVENTS),
}
SETTLE_S = 90.0


@pytest.fixture
def platform_env() -> dict[str, str]:
    """Step 1: exercises produces version 0 of both families. ExerciseUpdated goes through the
    log (the seed migrates the asynchronous link); its push is covered by the integration tests."""
    return {
        "EXERCISES_EXERCISE_EVENTS_VERSION": "0",
        "EXERCISES_MANAGER_EVENTS_VERSION": "0",
        "EXERCISES_EXERCISE_UPDATES_LINK": "event",
    }


# -- reading each service's own database and the log ----------------------------------------------


def query(platform: Platform, service: str, statement: sa.Executable) -> list[Any]:
    engine = sa.create_engine(platform.deployment.database_url(service), poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(statement))
    finally:
        engine.dispose()


def produced(platform: Platform, names: tuple[str, ...]) -> list[Any]:
    """Exercises' outbox rows of these events, in the order they were staged."""
    statement = (
        sa.select(outbox.c.id, outbox.c.event_id, outbox.c.event_version, outbox.c.body)
        .where(outbox.c.event_name.in_(names))
        .order_by(outbox.c.id)
    )
    return query(platform, "exercises", statement)


def applied(platform: Platform, consumer: str) -> list[str]:
    service, _ = CONSUMERS[consumer]
    statement = sa.select(inbox.c.event_id).where(inbox.c.consumer == consumer)
    return [str(row.event_id) for row in query(platform, service, statement)]


def transport(platform: Platform) -> Transport:
    deployment = platform.deployment
    return make_transport(
        deployment.event_log_url(),
        partitions=deployment.partitions,
        topic_prefix=deployment.topic_prefix,
    )


def logged(platform: Platform, topic: str) -> list[Envelope]:
    log = transport(platform)
    try:
        return [
            RecordCodec(SchemaRegistry.load()).decode(record.value, record.headers)
            for partition in range(log.partitions_for(topic))
            for record in log.read(topic, partition, 0, 100_000)
        ]
    finally:
        log.close()


def append_to_log(platform: Platform, registry: SchemaRegistry, *envelopes: Envelope) -> None:
    """As exercises' relay would, had it produced them."""
    messages = []
    for envelope in envelopes:
        registry.validate_envelope(envelope)
        value, headers = RecordCodec(registry).encode(envelope)
        messages.append(
            OutgoingMessage(
                topic=registry.spec(envelope.event_name).topic,
                key=registry.partition_key(envelope.event_name, envelope.payload),
                value=value,
                headers=headers,
            )
        )
    log = transport(platform)
    try:
        log.producer().send(messages)
    finally:
        log.close()


def applied_by_version(api: Api, service: str, consumer: str) -> Counter[str]:
    """The service's events_applied_by_version_total, per event version (this process only)."""
    text = api.call("GET", service, "/metrics").text
    found: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            wanted = sample.name == "events_applied_by_version_total"
            if wanted and sample.labels["consumer"] == consumer:
                found[sample.labels["event_version"]] += int(sample.value)
    return found


# -- the traffic -----------------------------------------------------------------------------------


@dataclass
class Traffic:
    """Candidates registering and answering; managers editing exercises and managers."""

    platform: Platform
    answers: dict[str, str] = field(default_factory=dict)  # exercise -> answer (never edited)
    authors: dict[str, str] = field(default_factory=dict)  # exercise -> author, its editor
    edited: set[str] = field(default_factory=set)  # the exercises managers keep editing
    managers: list[str] = field(default_factory=list)  # the managers edited along
    accepted: dict[str, str] = field(default_factory=dict)  # idempotency key -> submission id
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def add_exercise(self, exercise_id: str, answer: str, author: str, *, edit: bool) -> None:
        with self.lock:
            self.answers[exercise_id], self.authors[exercise_id] = answer, author
            if edit:
                self.edited.add(exercise_id)

    def start(self) -> None:
        for target in (self._candidates, self._candidates, self._editors):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self.threads.append(thread)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(120)
        assert not any(thread.is_alive() for thread in self.threads)

    def _count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def _candidates(self) -> None:
        api, rng = Api(self.platform), random.Random()
        while not self.stop.is_set():
            subject = rng.choice(SUBJECTS)
            name = f"Candidate {uuid.uuid4().hex[:8]}"
            body = {"name": name, "email": f"{name[-8:]}@mail.example", "subject": subject}
            try:
                response = api.call("POST", "hiring", "/candidates", json=body)
            except httpx.HTTPError:
                self._count("hiring unreachable")
                self.stop.wait(0.1)
                continue
            if response.status_code == 409:
                self._count(f"nothing to assign in {subject}")
                self.stop.wait(0.05)
                continue
            if response.status_code != 201:
                self.failures.append(f"register: {response.status_code} {response.text}")
                continue
            candidate = response.json()
            for exercise in candidate["exercises"]:
                self._solve(api, candidate["id"], exercise["exercise_id"], exercise["version"])
        api.client.close()

    def _solve(self, api: Api, candidate_id: str, exercise_id: str, version: int) -> None:
        """Answer until hiring answers; a lost response is asked again under the same key."""
        with self.lock:
            answer = self.answers[exercise_id]
        key, deadline = uuid.uuid4().hex, time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            try:
                response = api.submit(candidate_id, exercise_id, version, answer, key=key)
            except httpx.HTTPError:
                self._count("hiring unreachable")
                time.sleep(0.1)
                continue
            body = response.json()
            if response.status_code == 409 and "current_version" in body:
                version, key = body["current_version"], uuid.uuid4().hex  # edited meanwhile
                self._count("answered a replaced version")
                continue
            if response.status_code == 200:
                with self.lock:
                    self.accepted[key] = body["submission_id"]
                    self.counts["accepted submissions"] += 1
                return
            if response.status_code >= 500:
                time.sleep(0.1)
                continue
            self.failures.append(f"submit: {response.status_code} {response.text}")
            return
        self.failures.append(f"submit: no answer from hiring in {SETTLE_S} s")

    def _editors(self) -> None:
        api, rng, n = Api(self.platform), random.Random(), 0
        while not self.stop.wait(0.1):
            n += 1
            with self.lock:
                exercise_id = rng.choice(sorted(self.edited))
                author = self.authors[exercise_id]
                manager_id = rng.choice(self.managers)
            edit: dict[str, Any] = {"editor_id": author, "title": f"Edit {n}"}
            edit["difficulty"] = 1 + n % 5
            if n % 4 == 0:
                edit["subject"] = rng.choice(SUBJECTS)
            self._ok(api, "PUT", f"/exercises/{exercise_id}", edit)
            if n % 3 == 0:
                change = {"team": f"team {n}"} if n % 2 else {"last_name": f"Edited-{n}"}
                self._ok(api, "PATCH", f"/managers/{manager_id}", change)
        api.client.close()

    def _ok(self, api: Api, method: str, path: str, body: dict[str, Any]) -> None:
        response = api.call(method, "exercises", path, json=body)
        if response.status_code >= 300:
            self.failures.append(f"{method} {path}: {response.status_code} {response.text}")
        else:
            self._count(f"{method} {path.split('/')[1]}")


@pytest.fixture
def traffic(platform: Platform) -> Iterator[Traffic]:
    running = Traffic(platform)
    yield running
    running.stop.set()


# -- the migration -------------------------------------------------------------------------------


def versions_produced(api: Api) -> dict[str, int]:
    return {
        f["family"]: f["version"] for f in api.ok("GET", "exercises", "/operator/event-versions")
    }


def hiring_replica(api: Api) -> dict[str, tuple[str, int, int]]:
    items = api.ok("GET", "hiring", "/exercises", params={"limit": 1000})["items"]
    return {e["exercise_id"]: (e["subject"], e["difficulty"], e["version"]) for e in items}


def write_exercises(
    api: Api, traffic: Traffic, author: str, count: int, tag: str, *, edit: bool = True
) -> list[str]:
    ids = []
    for n in range(count):
        answer = f"answer {tag} {n}"
        subject, difficulty = SUBJECTS[n % 2], 1 + n % 5
        exercise_id = api.exercise(
            author, answer, f"{tag} {n}", subject=subject, difficulty=difficulty
        )
        traffic.add_exercise(exercise_id, answer, author, edit=edit)
        ids.append(exercise_id)
    return ids


def probe_v1_events(registry: SchemaRegistry) -> tuple[Envelope, Envelope]:
    """A v1 manager and a v1 exercise of a subject no candidate asks for."""
    manager = Envelope.new(
        "ManagerCreated",
        1,
        {
            "manager_id": f"probe-{uuid.uuid4().hex[:8]}",
            "first_name": "Probe",
            "last_name": "Manager",
            "team": "probes",
            "email": "probe@school.example",
        },
        producer="exercises",
    )
    exercise = Envelope.new(
        "ExerciseCreated",
        1,
        {
            "exercise_id": str(uuid.uuid4()),
            "title": "Probe",
            "statement": "Read by consumers of v1 while v0 is produced",
            "accepted_answers": ["probe"],
            "check_mode": "exact",
            "subject": "probe-only",
            "difficulty": 5,
            "author_id": manager.payload["manager_id"],
            "version": 1,
            "status": "active",
            "updated_at": manager.produced_at,
        },
        producer="exercises",
    )
    return manager, exercise


def unconsumed_versions(platform: Platform, topic: str, consumer: str) -> set[int]:
    done = set(applied(platform, consumer))
    return {e.event_version for e in logged(platform, topic) if e.event_id not in done}


def test_us_160_and_us_170_migrate_under_traffic_with_nothing_lost_or_doubled(
    api: Api, platform: Platform, traffic: Traffic
) -> None:
    registry = SchemaRegistry.load()
    # Steps 1 and 2: both versions in the registry; exercises produces version 0.
    for name in EXERCISE_EVENTS + MANAGER_EVENTS:
        assert registry.spec(name).versions == (0, 1)
    assert versions_produced(api) == {"exercise": 0, "manager": 0}

    anna = api.manager("Anna Petrova", team="mathematics")
    legacy = {"name": "Boris Godunov", "email": "boris@school.example"}  # the old body
    boris = str(api.ok("POST", "exercises", "/managers", json=legacy)["id"])
    traffic.managers.append(anna)  # Boris is never edited: his last event stays a v0 one
    before_flip = write_exercises(api, traffic, anna, 4, "Anna's") + write_exercises(
        api, traffic, boris, 2, "Boris's"
    )
    api.hiring_knows(before_flip)
    replica = hiring_replica(api)
    # v0 carries no subject: hiring sees the defaults, whatever the authors chose.
    assert {replica[e][:2] for e in before_flip} == {("general", 3)}
    traffic.start()

    # Step 3: the running consumers already read v1, while exercises still produces v0.
    probe_manager, probe_exercise = probe_v1_events(registry)
    append_to_log(platform, registry, probe_manager, probe_exercise)
    probe_id, probe_manager_id = (
        probe_exercise.payload["exercise_id"],
        probe_manager.payload["manager_id"],
    )
    eventually(
        lambda: hiring_replica(api).get(probe_id, ())[:2] == ("probe-only", 5),
        what="hiring applied a v1 ExerciseCreated",
        timeout_s=SETTLE_S,
    )
    eventually(
        lambda: (api.ledger(probe_manager_id)["manager"] or {}).get("team") == "probes",
        what="bonus applied a v1 ManagerCreated",
        timeout_s=SETTLE_S,
    )
    assert versions_produced(api) == {"exercise": 0, "manager": 0}

    # Step 4: hiring and bonus stop; v0 events pile up, the flags flip, v1 events pile up.
    platform["hiring"].stop()
    platform["bonus"].stop()
    vera = api.manager("Vera Pavlova")
    traffic.managers.append(vera)
    write_exercises(api, traffic, vera, 1, "Vera's v0", edit=False)  # stays at its v0 event
    time.sleep(1.5)
    runner = CliRunner(env={"COLUMNS": "200"})
    url = ["--exercises-url", platform["exercises"].url]
    last_v0 = max(row.id for row in produced(platform, EXERCISE_EVENTS + MANAGER_EVENTS))
    flipped = runner.invoke(app, ["event-versions", "set", "exercise", "1", *url])
    assert flipped.exit_code == 0, flipped.output
    api.ok("PUT", "exercises", "/operator/event-versions/manager", json={"version": 1})
    shown = runner.invoke(app, ["event-versions", "show", *url])
    assert shown.exit_code == 0 and shown.output.count("v1 ") >= 2, shown.output
    time.sleep(1.0)  # a save that read the flags just before the flip has committed by now
    boundary = max(row.id for row in produced(platform, EXERCISE_EVENTS + MANAGER_EVENTS))
    gleb = api.manager("Gleb Orlov", team="physics")
    traffic.managers.append(gleb)
    after_flip = write_exercises(api, traffic, gleb, 2, "Gleb's v1")
    time.sleep(1.5)
    for topic, consumers in (
        ("exercises", ("hiring.exercises",)),
        ("managers", ("hiring.managers", "bonus.managers")),
    ):
        for consumer in consumers:
            waiting = unconsumed_versions(platform, topic, consumer)
            assert waiting == {0, 1}, f"{consumer} has {waiting} waiting on {topic}"
    for service in ("hiring", "bonus"):
        platform[service].start()
    for service in ("hiring", "bonus"):
        platform[service].wait_ready(60)
    api.hiring_knows(after_flip, timeout_s=SETTLE_S)
    time.sleep(2.0)
    traffic.finish()

    # Step 5: v0 before the flip, nothing but v1 since (a save under way during the flip may
    # still have read the old flag: the second before `boundary`).
    rows = produced(platform, EXERCISE_EVENTS + MANAGER_EVENTS)
    assert {row.event_version for row in rows if row.id <= last_v0} == {0}
    assert {row.event_version for row in rows if row.id > boundary} == {1}

    # Step 6: every event produced, of either version, applied once by every consumer.
    probes = {"hiring.exercises": probe_exercise, "hiring.managers": probe_manager}
    probes["bonus.managers"] = probe_manager
    for consumer, (_, names) in CONSUMERS.items():
        expected = sorted(
            [str(r.event_id) for r in produced(platform, names)] + [probes[consumer].event_id]
        )

        def all_applied(consumer: str = consumer, expected: list[str] = expected) -> bool:
            return sorted(applied(platform, consumer)) == expected

        eventually(all_applied, what=f"{consumer} applied every event once", timeout_s=SETTLE_S)
    # The restarted consumers read both versions that waited for them.
    assert set(applied_by_version(api, "hiring", "hiring.exercises")) == {"0", "1"}
    assert set(applied_by_version(api, "bonus", "bonus.managers")) == {"0", "1"}

    # Each replica holds what the last event of each aggregate says, read as v1.
    check_exercises(api, platform)
    check_managers(api, platform)
    assert traffic.failures == []
    assert traffic.counts["accepted submissions"] > 0, traffic.counts
    assert traffic.counts["PUT exercises"] > 0 and traffic.counts["PATCH managers"] > 0

    # Every accepted submission stored, once; the ledger holds exactly what was issued.
    stored = [row.id for row in query(platform, "hiring", sa.text("SELECT id FROM submissions"))]
    assert sorted(stored) == sorted(traffic.accepted.values())
    eventually(
        lambda: ledger_matches(api), what="the ledger equals what was issued", timeout_s=SETTLE_S
    )


def last_payloads(
    platform: Platform, names: tuple[str, ...]
) -> dict[str, tuple[int, dict[str, Any]]]:
    """Per aggregate (its partition key), the version and payload of its last event."""
    last: dict[str, tuple[int, dict[str, Any]]] = {}
    for row in produced(platform, names):
        envelope = orjson.loads(row.body)
        payload = envelope["payload"]
        key = payload.get("exercise_id") or payload["manager_id"]
        last[key] = (envelope["event_version"], payload)
    return last


def check_exercises(api: Api, platform: Platform) -> None:
    replica = hiring_replica(api)
    last = last_payloads(platform, EXERCISE_EVENTS)
    exercises = api.ok("GET", "exercises", "/exercises")
    assert {e["id"] for e in exercises} == set(last)
    versions = Counter(version for version, _ in last.values())
    assert versions[0] and versions[1], versions  # both kinds of end state are checked
    for exercise in exercises:
        version, _ = last[exercise["id"]]
        expected = (exercise["subject"], exercise["difficulty"]) if version == 1 else ("general", 3)
        assert replica[exercise["id"]] == (*expected, exercise["version"]), exercise


def check_managers(api: Api, platform: Platform) -> None:
    last = last_payloads(platform, MANAGER_EVENTS)
    in_hiring = {
        row.id: (row.first_name, row.last_name, row.team)
        for row in query(platform, "hiring", sa.text("SELECT * FROM managers"))
    }
    assert {version for version, _ in last.values()} == {0, 1}
    for manager_id, (version, payload) in last.items():
        if version == 1:
            expected = (payload["first_name"], payload["last_name"], payload["team"])
            shown = api.ok("GET", "exercises", f"/managers/{manager_id}")
            assert expected == (shown["first_name"], shown["last_name"], shown["team"])
        else:
            first_name, _, last_name = payload["name"].partition(" ")
            expected = (first_name, last_name, None)
        assert in_hiring[manager_id] == expected
        account = api.ledger(manager_id)["manager"]
        assert (account["first_name"], account["last_name"], account["team"]) == expected
        assert account["name"] == " ".join(part for part in expected[:2] if part)


def ledger_matches(api: Api) -> bool:
    issued: Counter[tuple[str, str]] = Counter()
    for row in api.ok("GET", "hiring", "/totals/issued")["items"]:
        issued[(row["manager_id"], "bonus_cents")] += row["bonus_cents"]
        issued[(row["manager_id"], "fine_cents")] += row["fine_cents"]
    for row in api.ok("GET", "exercises", "/totals/issued"):
        issued[(row["manager_id"], "payment_cents")] += row["payment_cents"]
    booked: Counter[tuple[str, str]] = Counter()
    for row in api.ok("GET", "bonus", "/ledger/totals")["items"]:
        for kind in ("bonus_cents", "fine_cents", "payment_cents"):
            booked[(row["manager_id"], kind)] += row[kind]
    return +issued == +booked and sum(issued.values()) > 0
