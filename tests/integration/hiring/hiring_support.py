"""Helpers of the hiring integration tests: the service on a real database, events, counters."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import sqlalchemy as sa
from event_examples import MANAGER_ID, example_envelope
from fastapi import FastAPI
from fastapi.testclient import TestClient

from integration.credentials import AS_EXERCISES, OPERATOR, as_candidate
from teacher_hiring.foundation.sealing import open_sealed
from teacher_hiring.hiring.bootstrap import bootstrap
from teacher_hiring.hiring.settings import HiringSettings
from teacher_hiring.messaging.consumer import ConsumerRunner
from teacher_hiring.messaging.transport import OutgoingMessage
from teacher_hiring.runtime.service import ServiceRuntime

AT = "2025-03-14T09:26:53.589793Z"


def make_settings(
    tmp_path: Path, database_url: str | None = None, **overrides: Any
) -> HiringSettings:
    return HiringSettings(
        database_url=database_url or f"sqlite:///{tmp_path}/svc.db",
        event_log_url=f"sqlite:///{tmp_path}/events.db",
        run_workers=False,
        log_format="console",
        log_level="warning",
        **overrides,
    )


def exercise_payload(
    exercise_id: str | None = None,
    *,
    version: int = 1,
    answers: tuple[str, ...] = ("42",),
    check_mode: str = "normalized",
    author_id: str = MANAGER_ID,
    title: str = "Sum of two numbers",
    subject: str | None = None,
    difficulty: int | None = None,
) -> dict[str, Any]:
    """A v0 payload; with a subject or a difficulty, a v1 payload (US-160)."""
    payload: dict[str, Any] = {
        "exercise_id": exercise_id or str(uuid.uuid4()),
        "title": title,
        "statement": f"{title}, version {version}",
        "accepted_answers": list(answers),
        "check_mode": check_mode,
        "author_id": author_id,
        "version": version,
        "status": "active",
        "updated_at": AT,
    }
    if subject is not None or difficulty is not None:
        payload["subject"] = "general" if subject is None else subject
        payload["difficulty"] = 3 if difficulty is None else difficulty
    return payload


def exercise_event(payload: dict[str, Any]) -> dict[str, Any]:
    """ExerciseCreated for version 1, ExerciseUpdated for later versions; event version 1 when
    the payload has a subject, else 0."""
    name = "ExerciseCreated" if payload["version"] == 1 else "ExerciseUpdated"
    event_version = 1 if "subject" in payload else 0
    envelope: dict[str, Any] = example_envelope(name, event_version)
    envelope["payload"] = dict(payload)
    if name == "ExerciseUpdated":
        envelope["payload"]["edited_by"] = payload["author_id"]
    return envelope


@dataclass
class Hiring:
    """The service under test, with the vocabulary of the tests."""

    app: FastAPI
    http: TestClient
    _started: set[str] = field(default_factory=set)

    @property
    def runtime(self) -> ServiceRuntime:
        runtime: ServiceRuntime = self.app.state.runtime
        return runtime

    # -- exercises reach hiring ----------------------------------------------------------------

    def push(self, envelope: dict[str, Any]) -> httpx.Response:
        response: httpx.Response = self.http.post(
            "/api/v0/exercise", content=orjson.dumps(envelope), headers=AS_EXERCISES
        )
        return response

    def add_exercise(self, **kwargs: Any) -> dict[str, Any]:
        payload = exercise_payload(**kwargs)
        response = self.push(exercise_event(payload))
        assert response.status_code == 200, response.text
        return payload

    def new_version(self, payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
        newer = {**payload, "version": payload["version"] + 1, **changes}
        newer["statement"] = f"{newer['title']}, version {newer['version']}"
        response = self.push(exercise_event(newer))
        assert response.status_code == 200, response.text
        return newer

    def send_to_log(self, *envelopes: dict[str, Any]) -> None:
        registry = self.runtime.registry
        messages = [
            OutgoingMessage(
                topic=registry.spec(e["event_name"]).topic,
                key=registry.partition_key(e["event_name"], e["payload"]),
                value=orjson.dumps(e),
            )
            for e in envelopes
        ]
        self.runtime.transport.ensure_topics(sorted({m.topic for m in messages}))
        self.runtime.transport.producer().send(messages)

    def consume(self, group: str) -> int:
        """Run the group's consumer until it finds nothing more; how many records it took."""
        runner = self.runner(group)
        if group not in self._started:
            runner.start()
            self._started.add(group)
        total = 0
        while (taken := runner.run_once()) > 0:
            total += taken
        return total

    def runner(self, group: str) -> ConsumerRunner:
        return next(r for r in self.runtime.runners if r.group == group)

    # -- candidates ----------------------------------------------------------------------------

    def register(self, name: str = "Ivan Sidorov") -> dict[str, Any]:
        # one candidate per email: a test registering "Ivan Sidorov" twice gets two people
        email = f"{name.lower().replace(' ', '.')}.{uuid.uuid4().hex[:8]}@mail.example"
        response = self.http.post("/candidates", json={"name": name, "email": email})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def submit(
        self,
        candidate_id: str,
        exercise_id: str,
        answer: str,
        *,
        version: int = 1,
        key: str | None = None,
    ) -> httpx.Response:
        headers = as_candidate(candidate_id) | ({"Idempotency-Key": key} if key else {})
        response: httpx.Response = self.http.post(
            f"/candidates/{candidate_id}/submissions",
            json={"exercise_id": exercise_id, "exercise_version": version, "answer": answer},
            headers=headers,
        )
        return response

    def solve(self, candidate_id: str, exercise_id: str, answer: str, version: int = 1) -> Any:
        response = self.submit(candidate_id, exercise_id, answer, version=version)
        assert response.status_code == 200, response.text
        assert response.json()["correct"] is True
        return response.json()

    # -- what hiring stored --------------------------------------------------------------------

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """Envelopes in the outbox, oldest first, optionally of one event name."""
        query = sa.text("SELECT body FROM outbox ORDER BY id")
        with self.runtime.engine.connect() as conn:
            bodies = [orjson.loads(row[0]) for row in conn.execute(query)]
        return [b for b in bodies if name is None or b["event_name"] == name]

    def opened_name(self, candidate_id: str, sealed: str) -> str:
        """A name as hiring sealed it in an event, opened with the candidate's key."""
        query = sa.text("SELECT key FROM person_keys WHERE candidate_id = :c")
        with self.runtime.engine.connect() as conn:
            key = bytes(conn.execute(query, {"c": candidate_id}).scalar_one())
        return open_sealed(key, candidate_id, sealed)

    def count(self, table: str) -> int:
        with self.runtime.engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())

    def stats(self, exercise_id: str) -> dict[str, Any]:
        response = self.http.get(f"/exercises/{exercise_id}/stats")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


HiringFactory = Callable[..., Hiring]


@contextmanager
def hiring_factory(tmp_path: Path, database_url: str, **defaults: Any) -> Iterator[HiringFactory]:
    """Builds hiring apps on one database (settings: `defaults`, then each call's overrides),
    each with its TestClient entered; all are closed, newest first, when the block ends."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> Hiring:
        app = bootstrap(make_settings(tmp_path, database_url, **{**defaults, **overrides}))
        client = TestClient(app, headers=OPERATOR)
        client.__enter__()
        clients.append(client)
        return Hiring(app, client)

    try:
        yield make
    finally:
        for client in reversed(clients):
            client.__exit__(None, None, None)
