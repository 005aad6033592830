"""COMM-070: reading a manager from the exercises service, only when the replica lacks them.

The call has a short timeout and its answers are cached; every failure is an answer too
("unknown for now", cached briefly), so that a slow or fallen exercises service never slows
the bonus service down or takes it with it. Consumers never call this.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import quote

import httpx
import structlog

from teacher_hiring.bonus.domain.model import Manager
from teacher_hiring.bonus.metrics import EXERCISES_HTTP_CALLS
from teacher_hiring.events.exercises import split_name

log = structlog.get_logger(__name__)


class ExercisesClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float,
        ttl_s: float,
        failure_ttl_s: float,
        max_entries: int = 10_000,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        auth: httpx.Auth | None = None,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout_s),  # each of connect, write, read and pool
            transport=transport,
            auth=auth,  # bonus's service token
            headers={"accept": "application/json"},
        )
        self._ttl_s = ttl_s
        self._failure_ttl_s = failure_ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, Manager | None]] = OrderedDict()
        self._lock = threading.Lock()

    def manager(self, manager_id: str) -> Manager | None:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(manager_id)
            if cached is not None and cached[0] > now:
                return cached[1]
        found, outcome = self._fetch(manager_id)
        ttl = self._ttl_s if outcome == "ok" else self._failure_ttl_s
        with self._lock:
            self._cache[manager_id] = (now + ttl, found)
            self._cache.move_to_end(manager_id)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)
        return found

    def _fetch(self, manager_id: str) -> tuple[Manager | None, str]:
        outcome = "error"
        found: Manager | None = None
        try:
            response = self._client.get(f"/managers/{quote(manager_id, safe='')}")
            if response.status_code == 404:
                outcome = "not_found"
            else:
                response.raise_for_status()
                found = _manager(response.json())
                outcome = "ok" if found is not None else "error"
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("exercises.manager_lookup_failed", manager_id=manager_id, error=str(exc))
        EXERCISES_HTTP_CALLS.labels("bonus", outcome).inc()
        return found, outcome

    def close(self) -> None:
        self._client.close()


def _manager(body: object) -> Manager | None:
    """Accepts first_name, last_name and team (US-170), or only the older full `name`, split
    as the v0 -> v1 upcaster of ManagerCreated splits it."""
    if not isinstance(body, dict) or not isinstance(body.get("email"), str):
        return None
    first_name, last_name, team = body.get("first_name"), body.get("last_name"), body.get("team")
    if not isinstance(first_name, str) or not first_name:
        name = body.get("name")
        if not isinstance(name, str) or not name:
            return None
        first_name, last_name = split_name(name)
    return Manager(
        first_name=first_name,
        last_name=last_name if isinstance(last_name, str) else "",
        team=team if isinstance(team, str) else None,
        email=body["email"],
    )
