"""Helpers for driving the exercises service in tests: HTTP calls, the outbox, events in."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import orjson
import sqlalchemy as sa
from event_examples import example_envelope
from fastapi.testclient import TestClient

from integration.credentials import SERVICE
from teacher_hiring.exercises.entrypoints.deps import Services
from teacher_hiring.foundation.time import now_rfc3339
from teacher_hiring.messaging.tables import outbox
from teacher_hiring.messaging.transport import OutgoingMessage, Record, dlq_topic
from teacher_hiring.messaging.wire import RecordCodec
from teacher_hiring.runtime.service import ServiceRuntime


class Service:
    """One running exercises service and the helpers the tests speak in."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.runtime: ServiceRuntime = client.app.state.runtime  # type: ignore[attr-defined]
        self.services: Services = client.app.state.services  # type: ignore[attr-defined]
        self._started: set[str] = set()

    # -- HTTP --------------------------------------------------------------------------------

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON of a 2xx answer; as an operator, or as hiring on the /api/ of the links."""
        if path.startswith("/api/"):
            kwargs["headers"] = SERVICE | kwargs.get("headers", {})
        response = self.client.request(method, path, **kwargs)
        status = response.status_code
        assert status < 300, f"{method} {path}: {status} {response.text}"
        return response.json()

    def manager(self, name: str = "Anna Petrova", team: str | None = None) -> str:
        """A new manager; `name` is split at its first space into first and last name."""
        first_name, _, last_name = name.partition(" ")
        email = name.lower().replace(" ", ".") + "@school.example"
        body = {"first_name": first_name, "last_name": last_name, "team": team, "email": email}
        return str(self.ok("POST", "/managers", json=body)["id"])

    def exercise(self, author_id: str, answer: str = "5", title: str = "Sum", **fields: Any) -> str:
        """A new exercise; `fields` adds subject, difficulty or check_mode."""
        body = {
            "author_id": author_id,
            "title": title,
            "statement": f"Statement of {title}",
            "accepted_answers": [answer],
            **fields,
        }
        return str(self.ok("POST", "/exercises", json=body)["id"])

    def edit(self, exercise_id: str, editor_id: str, **changes: Any) -> Any:
        body = {"editor_id": editor_id, **changes}
        return self.ok("PUT", f"/exercises/{exercise_id}", json=body)

    def assignments(self, **params: str) -> list[dict[str, Any]]:
        return list(self.ok("GET", "/assignments", params=params))

    # -- the outbox --------------------------------------------------------------------------

    def staged(self, event_name: str | None = None) -> list[dict[str, Any]]:
        """Envelopes in the outbox, in commit order."""
        query = sa.select(outbox.c.body, outbox.c.event_name).order_by(outbox.c.id)
        with self.runtime.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [orjson.loads(body) for body, name in rows if event_name in (None, name)]

    def unsent(self, event_id: str) -> bool:
        query = sa.select(outbox.c.sent_at).where(outbox.c.event_id == event_id)
        with self.runtime.engine.connect() as conn:
            return conn.execute(query).scalar_one() is None

    # -- events in -----------------------------------------------------------------------------

    def send(self, *envelopes: dict[str, Any]) -> None:
        """Append events to the embedded log as their producer (hiring) would."""
        registry = self.runtime.registry
        messages = [
            OutgoingMessage(
                topic=registry.spec(envelope["event_name"]).topic,
                key=registry.partition_key(envelope["event_name"], envelope["payload"]),
                value=orjson.dumps(envelope),
            )
            for envelope in envelopes
        ]
        self.runtime.transport.producer().send(messages)

    def consume(self, group: str) -> int:
        """Run the group's consumer until it has nothing left; returns records consumed."""
        runner = next(r for r in self.runtime.runners if r.group == group)
        if group not in self._started:
            runner.start()
            self._started.add(group)
        total = 0
        while (count := runner.run_once()) > 0:
            total += count
        return total

    def log_records(self, topic: str) -> list[dict[str, Any]]:
        """The envelopes on a topic of the embedded log, every partition, in offset order each."""
        transport, codec = self.runtime.transport, RecordCodec(self.runtime.registry)
        return [
            codec.decode(record.value, record.headers).as_dict()
            for partition in range(transport.partitions_for(topic))
            for record in transport.read(topic, partition, 0, 1000)
        ]

    def dead_letters(self, topic: str) -> list[Record]:
        """Every record of the topic's dead-letter topic, whatever its partition."""
        transport, dlq = self.runtime.transport, dlq_topic(topic)
        return [
            record
            for partition in range(transport.partitions_for(dlq))
            for record in transport.read(dlq, partition, 0, 1000)
        ]

    def close(self) -> None:
        for runner in self.runtime.runners:
            if runner.group in self._started:
                runner.close()


def leak_event(
    exercise_id: str,
    author_id: str,
    version: int | None = 1,
    *,
    candidate_id: str | None = None,
    **envelope: Any,
) -> dict[str, Any]:
    """An ExerciseCompletedMoreThenTenTimes produced now (unless told otherwise): v1, naming
    the leaked `version`; with `version=None`, a v0 report, which names none."""
    event = example_envelope("ExerciseCompletedMoreThenTenTimes", 0 if version is None else 1)
    event["produced_at"] = now_rfc3339()
    event["payload"].update(
        exercise_id=exercise_id, author_id=author_id, candidate_id=candidate_id or str(uuid.uuid4())
    )
    if version is not None:
        event["payload"]["exercise_version"] = version
    event.update(envelope)
    return event


ServiceFactory = Callable[..., Service]
