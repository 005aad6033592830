"""The platform's live state for the operators' page: what each service's own endpoints say.

Per service: up or down (`/health`), outbox backlog and consumer lag (its Prometheus `/metrics`,
open to anyone on the services' network), pending dead letters per topic (its dead-letter
route, counted at each reading). Per topic: events
per second, from the records the log has received (`/operator/topics`, asked of the first
service that answers) between two readings of this process; the first reading has no rate yet.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from teacher_hiring.web.api import SERVICES, Calls, Refused, ServiceDown

PROBE_TIMEOUT_S = 1.5


@dataclass
class ServiceState:
    name: str
    up: bool
    problem: str | None = None
    outbox_backlog: int | None = None
    consumer_lag: int | None = None
    lag_by_topic: dict[str, int] = field(default_factory=dict)
    dead_letters: dict[str, int] = field(default_factory=dict)
    """Pending dead letters of the service's consumers, per original topic."""


@dataclass
class TopicState:
    topic: str
    records: int | None
    per_second: float | None
    dead_letters: int


@dataclass
class LiveState:
    at: float
    services: list[ServiceState]
    topics: list[TopicState]

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "services": [vars(service) for service in self.services],
            "topics": [vars(topic) for topic in self.topics],
        }


def parse_metrics(text: str, service: str) -> ServiceState:
    """The figures of one service's /metrics text (its own samples only)."""
    backlog: int | None = None
    lag: dict[str, int] = defaultdict(int)
    pending: dict[str, int] = defaultdict(int)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("service", service) != service:
                continue
            if sample.name == "outbox_backlog":
                backlog = (backlog or 0) + int(sample.value)
            elif sample.name == "consumer_lag" and sample.value >= 0:
                lag[sample.labels.get("topic", "")] += int(sample.value)
            elif sample.name == "dead_letters_pending":
                pending[sample.labels.get("topic", "")] += int(sample.value)
    return ServiceState(
        name=service,
        up=True,
        outbox_backlog=backlog,
        consumer_lag=sum(lag.values()) if lag else 0,
        lag_by_topic=dict(lag),
        dead_letters=dict(pending),
    )


class Rates:
    """Events per second per topic, from this process's previous reading of the counts."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last: tuple[float, dict[str, int]] | None = None

    def update(self, records: Mapping[str, int]) -> dict[str, float | None]:
        now = self._clock()
        with self._lock:
            last, self._last = self._last, (now, dict(records))
        if last is None or now <= last[0]:
            return dict.fromkeys(records)
        elapsed = now - last[0]
        return {
            topic: None if topic not in last[1] else max(0, count - last[1][topic]) / elapsed
            for topic, count in records.items()
        }


def _service_state(client: httpx.Client, name: str, url: str) -> ServiceState:
    try:
        health = client.get(url.rstrip("/") + "/health", timeout=PROBE_TIMEOUT_S)
        if health.status_code != 200:
            return ServiceState(name, up=False, problem=f"/health answered {health.status_code}")
        metrics = client.get(url.rstrip("/") + "/metrics", timeout=PROBE_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return ServiceState(name, up=False, problem=f"not reachable ({type(exc).__name__})")
    if metrics.status_code != 200:
        return ServiceState(name, up=True, problem=f"/metrics answered {metrics.status_code}")
    return parse_metrics(metrics.text, name)


def _topic_counts(calls: Calls, services: list[ServiceState]) -> dict[str, int]:
    for service in services:
        if not service.up:
            continue
        try:
            found = calls.get(service.name, "/operator/topics")  # type: ignore[arg-type]
        except (ServiceDown, Refused):
            continue
        return {item["topic"]: int(item["records"]) for item in found}
    return {}


def _pending_dead_letters(calls: Calls, service: ServiceState) -> None:
    """The service's pending dead letters per topic, counted on its dead-letter topics now (the
    metrics' gauge is refreshed only by the maintenance pass)."""
    try:
        page = calls.get(service.name, "/operator/dead-letters", limit=1)  # type: ignore[arg-type]
    except (ServiceDown, Refused):
        return
    service.dead_letters = {
        topic: int(counts["pending"]) for topic, counts in page["topics"].items()
    }


def gather(calls: Calls, rates: Rates, *, clock: Callable[[], float] = time.time) -> LiveState:
    """One reading of the whole platform; a service that does not answer is marked down."""
    client = calls.api.clients["exercises"]
    services = [_service_state(client, name, calls.api.urls[name]) for name in SERVICES]
    for service in services:
        if service.up:
            _pending_dead_letters(calls, service)
    records = _topic_counts(calls, services)
    per_second = rates.update(records)
    pending: dict[str, int] = defaultdict(int)
    for service in services:
        for topic, count in service.dead_letters.items():
            pending[topic] += count
    names = sorted(set(records) | set(pending))
    topics = [
        TopicState(topic, records.get(topic), per_second.get(topic), pending.get(topic, 0))
        for topic in names
    ]
    return LiveState(at=clock(), services=services, topics=topics)
