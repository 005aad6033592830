"""Gathering what the checks compare: from the services' own endpoints (as an operator would,
with an operator's token) and, for the poison, from the dead-letter topics themselves."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from teacher_hiring.bonus.domain.model import EventSource
from teacher_hiring.bonus.domain.reconciliation import expected
from teacher_hiring.chaos.checks import (
    Accepted,
    DeadLetter,
    Money,
    Observed,
    Poisoned,
    Rating,
    Ratings,
    Stored,
)
from teacher_hiring.chaos.faults import POISON_KEY, SentPoison, consumers_of
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.transport import Transport, dlq_topic

PAGE = 1000
READ_CHUNK = 500
TIMEOUT_S = 60.0


class ServiceError(RuntimeError):
    """A service answered a read with an error, or not at all."""


class Services:
    """GETs against one instance of each service, with the caller's headers (a token)."""

    def __init__(self, urls: Mapping[str, str], headers: Mapping[str, str]) -> None:
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.client = httpx.Client(timeout=TIMEOUT_S, headers=dict(headers))

    def get(self, service: str, path: str, **params: Any) -> Any:
        url = self.urls[service] + path
        try:
            response = self.client.get(url, params=params)
        except httpx.HTTPError as exc:
            raise ServiceError(f"GET {url}: {exc}") from exc
        if response.status_code >= 300:
            raise ServiceError(f"GET {url}: HTTP {response.status_code} {response.text[:300]}")
        return response.json()

    def cursor_pages(self, service: str, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Items of an operator read paged by `next` cursors."""
        query: dict[str, Any] = {**params, "limit": PAGE}
        while True:
            page = self.get(service, path, **query)
            yield from page["items"]
            if page["next"] is None:
                return
            query["after"] = page["next"]

    def offset_pages(self, service: str, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Items of a list paged by limit and offset (a bare list or `items`)."""
        offset = 0
        while True:
            body = self.get(service, path, limit=PAGE, offset=offset, **params)
            items = body if isinstance(body, list) else body["items"]
            yield from items
            if len(items) < PAGE:
                return
            offset += len(items)

    def close(self) -> None:
        self.client.close()


def stored_submissions(services: Services, candidates: Sequence[str]) -> dict[str, list[Stored]]:
    """Hiring's history of each candidate, asked a few at a time."""

    def history(candidate_id: str) -> tuple[str, list[Stored]]:
        body = services.get("hiring", f"/candidates/{candidate_id}/submissions")
        return candidate_id, [
            Stored(
                item["submission_id"],
                item["exercise_id"],
                int(item["exercise_version"]),
                bool(item["correct"]),
            )
            for item in body["items"]
        ]

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(history, sorted(set(candidates))))


def issued_money(services: Services) -> list[Money]:
    """What hiring and exercises issued, each as the ledger entry it must become."""
    found = []
    for producer in ("hiring", "exercises"):
        for item in services.cursor_pages(producer, "/operator/money-issued"):
            source = EventSource(
                event_id=item["event_id"],
                event_name=item["event_name"],
                producer=item["producer"],
                trace_id=item["trace_id"],
            )
            money = expected(item["event_name"], item["payload"], source)
            found.append(
                Money(money.event_id, money.manager_id, money.amount_cents, money.business_key)
            )
    return found


def ledger(services: Services) -> list[Money]:
    return [
        Money(
            entry["source"]["event_id"],
            entry["manager_id"],
            int(entry["amount_cents"]),
            entry["business_key"],
        )
        for entry in services.cursor_pages("bonus", "/operator/ledger-entries")
    ]


MONEY_TOPICS = ("money", "payments")
"""Where money travels: hiring's bonuses and fines, exercises' payments (schemas/events.yaml)."""


def money_dead_letters(services: Services) -> list[DeadLetter]:
    """Bonus's dead letters of the money topics, as its operator endpoint lists them."""
    return [letter for topic in MONEY_TOPICS for letter in _dead_letters(services, topic)]


def _dead_letters(services: Services, topic: str) -> list[DeadLetter]:
    letters = []
    skip = 0
    while True:
        page = services.get(
            "bonus", "/operator/dead-letters", topic=topic, order="offset", limit=500, skip=skip
        )
        letters += [
            DeadLetter(topic, "", "bonus", item["reason"], item["event_id"])
            for item in page["items"]
        ]
        skip += len(page["items"])
        if not page["items"] or skip >= page["total"]:
            return letters


def poison_dead_letters(transport: Transport, topics: Sequence[str]) -> list[DeadLetter]:
    """The records of the dead-letter topics that carry a poison key, read from the topics."""
    letters = []
    for topic in topics:
        name = dlq_topic(topic)
        starts = transport.start_offsets(name)
        for partition, end in transport.end_offsets(name).items():
            offset = starts.get(partition, 0)
            while offset < end:
                records = transport.read(name, partition, offset, READ_CHUNK)
                if not records:
                    break
                for record in records:
                    if record.key.startswith(POISON_KEY):
                        letters.append(
                            DeadLetter(
                                topic,
                                record.key,
                                record.headers.get("dlq_service", ""),
                                record.headers.get("dlq_reason", ""),
                                None,
                            )
                        )
                offset = records[-1].offset + 1
    return letters


def events_on_topics(transport: Transport, topics: Sequence[str]) -> int:
    """Records held by the topics (not their dead-letter topics)."""
    total = 0
    for topic in topics:
        starts = transport.start_offsets(topic)
        total += sum(end - starts.get(p, 0) for p, end in transport.end_offsets(topic).items())
    return total


def reconciliation(services: Services, since: str, until: str) -> list[tuple[str, str | None]]:
    report = services.get("bonus", "/operator/reconciliation", since=since, until=until)
    return [
        (d["kind"], (d["issued"] or d["ledger"] or {}).get("event_id"))
        for d in report["differences"]
    ]


def replicas(services: Services, observed: Observed) -> None:
    """Exercise versions, ratings and candidate statuses, on the owning and the copying side."""
    observed.exercise_versions = {
        e["id"]: int(e["version"]) for e in services.offset_pages("exercises", "/exercises")
    }
    observed.replica_versions = {
        e["exercise_id"]: int(e["version"]) for e in services.offset_pages("hiring", "/exercises")
    }
    ratings = {}
    leaked = []
    for exercise_id in observed.replica_versions:
        stats = services.get("hiring", f"/exercises/{exercise_id}/stats")
        by_version = {int(v["version"]): int(v["rating"]) for v in stats["versions"]}
        ratings[exercise_id] = Ratings(int(stats["rating_version"]), by_version)
        leaked += [
            (exercise_id, int(v["version"])) for v in stats["versions"] if v["needs_complication"]
        ]
    observed.hiring_ratings = ratings
    observed.leaked = leaked
    observed.assignments = [
        (a["exercise_id"], int(a["exercise_version"]))
        for a in services.offset_pages("exercises", "/assignments")
    ]
    observed.bonus_ratings = {
        r["exercise_id"]: Rating(int(r["exercise_version"]), int(r["rating"]), r["rating_version"])
        for r in services.get("bonus", "/ratings")
    }
    observed.candidate_statuses = {
        c["id"]: c["status"] for c in services.offset_pages("hiring", "/candidates")
    }
    observed.replica_statuses = {
        c["candidate_id"]: c["status"] for c in services.offset_pages("exercises", "/candidates")
    }


def observe(
    services: Services,
    transport: Transport,
    registry: SchemaRegistry,
    *,
    accepted: Sequence[Accepted],
    stored: Mapping[str, Sequence[Stored]],
    poison: Sequence[SentPoison],
    since: str,
    until: str,
) -> Observed:
    """Everything but the submissions' histories (`stored`: asked once, they do not change)."""
    observed = Observed(
        accepted=accepted,
        stored=stored,
        issued=issued_money(services),
        ledger=ledger(services),
        balances={
            a["manager_id"]: int(a["balance_cents"]) for a in services.get("bonus", "/accounts")
        },
        poison=[
            Poisoned(p.topic, p.key, p.variant, consumers_of(p.topic, registry)) for p in poison
        ],
    )
    observed.dead_letters = [
        *money_dead_letters(services),
        *poison_dead_letters(transport, registry.topics()),
    ]
    observed.differences = reconciliation(services, since, until)
    replicas(services, observed)
    return observed


def on_the_way(urls: Mapping[str, str]) -> dict[str, str]:
    """Per process, what its /metrics say is still on its way: outbox rows not relayed, and
    records its consumers have not committed. Shown when the checks did not come to hold."""
    found = {}
    for label, url in urls.items():
        try:
            text = httpx.get(url.rstrip("/") + "/metrics", timeout=10).text
        except httpx.HTTPError as exc:
            found[label] = f"no metrics: {exc}"
            continue
        backlog, lags = 0.0, []
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "outbox_backlog":
                    backlog = max(backlog, sample.value)
                elif sample.name == "consumer_lag" and sample.value:
                    lags.append(
                        f"{sample.labels['consumer']}/{sample.labels['topic']} {sample.value:g}"
                    )
        found[label] = f"outbox {backlog:g}; lag " + (", ".join(lags) or "0")
    return found


def broker_view(
    bootstrap: str, transport: Transport, client_config: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Per consumer group on the broker: its members, and per partition the records it has
    not committed. Shown, with on_the_way, when the checks did not come to hold.
    `client_config`: the admin's credentials on a secured broker."""
    from confluent_kafka import ConsumerGroupTopicPartitions
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, **(client_config or {})})
    found: dict[str, str] = {}
    try:
        groups = [g.group_id for g in admin.list_consumer_groups().result(30).valid]
        described = admin.describe_consumer_groups(groups) if groups else {}
        for group in sorted(groups):
            members = described[group].result(30).members
            offsets = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])
            committed = offsets[group].result(30).topic_partitions or []
            behind = []
            for tp in committed:
                end = transport.end_offsets(tp.topic).get(tp.partition, 0)
                if end > tp.offset:
                    behind.append(f"{tp.topic}[{tp.partition}] {end - max(tp.offset, 0)}")
            found[group] = f"{len(members)} members; behind: " + (", ".join(behind) or "none")
    except Exception as exc:  # a diagnosis must not hide the verdict it explains
        found["broker"] = f"cannot tell: {exc}"
    return found
