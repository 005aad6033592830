"""Helpers of the bonus integration tests: the service on a real database, events, counters."""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from teacher_hiring.bonus.settings import BonusSettings
from teacher_hiring.messaging.consumer import ConsumerRunner
from teacher_hiring.messaging.embedded_log import EmbeddedLog
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.transport import OutgoingMessage, Record, dlq_topic
from teacher_hiring.runtime.service import ServiceRuntime

AT = "2025-03-14T09:26:53.589793Z"
PRODUCERS = {
    "BonusAdded": "hiring",
    "FineAdded": "hiring",
    "TaskRatingChanged": "hiring",
    "PaymentCommited": "exercises",
    "ManagerCreated": "exercises",
    "ManagerUpdated": "exercises",
}


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bonus_added(manager_id: str, amount_cents: float = 1400, **fields: Any) -> dict[str, Any]:
    return {
        "manager_id": manager_id,
        "amount_cents": amount_cents,
        "submission_id": str(uuid.uuid4()),
        "candidate_id": str(uuid.uuid4()),
        "exercise_id": "ex-1",
        "exercise_version": 1,
        "completion_number": 3,
        "rating": 40,
        "rating_version": 2,
        "occurred_at": AT,
        **fields,
    }


def fine_added(manager_id: str, amount_cents: int = 500, **fields: Any) -> dict[str, Any]:
    return {
        "manager_id": manager_id,
        "amount_cents": amount_cents,
        "submission_id": str(uuid.uuid4()),
        "candidate_id": str(uuid.uuid4()),
        "exercise_id": "ex-1",
        "exercise_version": 1,
        "completion_number": 11,
        "reason": "exercise solved more than 10 times before it was complicated",
        "occurred_at": AT,
        **fields,
    }


def payment_commited(manager_id: str, amount_cents: int = 3000, **fields: Any) -> dict[str, Any]:
    return {
        "manager_id": manager_id,
        "amount_cents": amount_cents,
        "assignment_id": str(uuid.uuid4()),
        "exercise_id": "ex-1",
        "exercise_version": 2,
        "occurred_at": AT,
        **fields,
    }


def rating_changed(exercise_id: str, rating: int, rating_version: int) -> dict[str, Any]:
    return {
        "exercise_id": exercise_id,
        "exercise_version": 1,
        "rating": rating,
        "rating_version": rating_version,
        "attempted_candidates": 10,
        "failed_first_attempts": rating // 10,
        "changed_at": AT,
    }


def envelope(name: str, payload: dict[str, Any], **fields: Any) -> Envelope:
    built = Envelope.new(name, 0, payload, producer=PRODUCERS[name])
    return Envelope(**{**built.as_dict(), **fields}) if fields else built


def counter(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else float(value)


@dataclass
class Bonus:
    """The service under test: its app, HTTP client, runtime and event log."""

    app: FastAPI
    http: TestClient
    log: EmbeddedLog

    @property
    def runtime(self) -> ServiceRuntime:
        runtime: ServiceRuntime = self.app.state.runtime
        return runtime

    def runner(self, group: str) -> ConsumerRunner:
        return next(r for r in self.runtime.runners if r.group == group)

    def publish(self, *envelopes: Envelope) -> None:
        """Append events to the log as the producers' relays would."""
        messages = []
        for event in envelopes:
            spec = self.runtime.registry.spec(event.event_name)
            key = self.runtime.registry.partition_key(event.event_name, event.payload)
            messages.append(OutgoingMessage(spec.topic, key, event.to_json()))
        self.log.producer().send(messages)

    def consume(self, group: str = "bonus.money") -> int:
        """Poll the group until nothing is left; returns how many records it consumed."""
        runner = self.runner(group)
        if runner._consumer is None:
            runner.start()
        total = 0
        while consumed := runner.run_once():
            total += consumed
        return total

    def dead_letters(self, topic: str) -> list[Record]:
        dlq = dlq_topic(topic)
        found: list[Record] = []
        for partition in range(self.log.partitions_for(dlq)):
            found += self.log.read(dlq, partition, 0, 1000)
        return found

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.runtime.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()


def make_settings(tmp_path: Path, **overrides: Any) -> BonusSettings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path}/svc.db",
        "event_log_url": f"sqlite:///{tmp_path}/events.db",
        "run_workers": False,
        "exercises_url": f"http://127.0.0.1:{closed_port()}",
        "consumer_max_attempts": 2,
        "log_level": "warning",
        **overrides,
    }
    return BonusSettings(**values)
