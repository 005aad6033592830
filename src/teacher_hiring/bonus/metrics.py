"""Prometheus metrics of the bonus service.

`exercises_http_calls_total` is the Problem-060 counter that hiring may define as well; when
both services are imported into one process (the test suite), the one already registered is
reused instead of failing on a duplicate name.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import REGISTRY, Counter


def _counter(name: str, documentation: str, labels: Sequence[str]) -> Counter:
    try:
        return Counter(name, documentation, labels)
    except ValueError:  # already registered in this process
        existing = REGISTRY._names_to_collectors.get(name)  # no public lookup exists
        if isinstance(existing, Counter) and tuple(existing._labelnames) == tuple(labels):
            return existing
        raise


LEDGER_DUPLICATE_BUSINESS_KEYS = _counter(
    "ledger_duplicate_business_keys_total",
    "Money events whose business key the ledger already held (re-emitted under a new event id)",
    ["service", "kind"],
)
EXERCISES_HTTP_CALLS = _counter(
    "exercises_http_calls_total",
    "HTTP calls made to the exercises service, by caller and outcome (Problem-060)",
    ["service", "outcome"],
)
