"""Prometheus metrics of the messaging plumbing, labelled by service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

OUTBOX_BACKLOG = Gauge(
    "outbox_backlog", "Outbox rows not yet relayed", ["service"], multiprocess_mode="max"
)
RELAYED = Counter("outbox_relayed_total", "Outbox rows relayed", ["service", "sink"])
RELAY_FAILURES = Counter(
    "outbox_relay_failures_total", "Failed relay attempts", ["service", "sink"]
)
CONSUMER_LAG = Gauge("consumer_lag", "Records not yet committed", ["service", "consumer", "topic"])
PROCESSED = Counter(
    "events_processed_total",
    "Events handled, by outcome (applied, duplicate, ignored)",
    ["service", "consumer", "event_name", "outcome"],
)
CONSUMED_VERSIONS = Counter(
    "events_applied_by_version_total",
    "Events applied, by the version they were produced in (before upcasting)",
    ["service", "consumer", "event_name", "event_version"],
)
FAILED = Counter(
    "events_failed_total", "Handler attempts that raised", ["service", "consumer", "event_name"]
)
DEAD_LETTERED = Counter(
    "events_dead_lettered_total",
    "Events sent to a dead-letter topic, by reason (invalid, failed)",
    ["service", "consumer", "topic", "reason"],
)
DEAD_LETTERS_PENDING = Gauge(
    "dead_letters_pending",
    "Dead letters of the service's consumers neither replayed nor applied since, per topic",
    ["service", "topic"],
    multiprocess_mode="max",
)
HANDLER_SECONDS = Histogram(
    "event_handler_seconds",
    "Time to apply one event, inbox included",
    ["service", "consumer"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
