"""A consumer's replay on a log where only a topic's producer may write it: ask the producer.

On the secured broker each service writes its own topics only (messaging/kafka_access.py), so a
dead letter of `money` cannot be put back on `money` by bonus, which read it. Bonus asks hiring,
`POST /operator/replays` with its service token, to send its own copy of each event again
(hiring stages it in its outbox and its relay sends it: runtime/dead_letters_http.py). A
producer that does not answer is 503 naming it, one that answers an error 502; the consumer's
replay marks roll back with either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from teacher_hiring.messaging.dead_letter_rules import ReplayFailed, ReplayUnavailable

PATH = "/operator/replays"
CHUNK = 1000  # event ids per request, the endpoint's limit
TIMEOUT_S = 10.0


class ProducerReplays:
    """One HTTP client per producer this service reads from (`urls`: its name -> base URL);
    `auth(producer)` gives the service token for that producer."""

    def __init__(
        self,
        urls: Mapping[str, str],
        auth: Callable[[str], httpx.Auth],
        *,
        timeout_s: float = TIMEOUT_S,
        clients: Mapping[str, httpx.Client] | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self._clients = dict(clients or {})
        for producer, url in urls.items():
            self._clients.setdefault(
                producer,
                httpx.Client(
                    base_url=url.rstrip("/"),
                    timeout=httpx.Timeout(timeout_s),
                    headers={"accept": "application/json"},
                    auth=auth(producer),
                ),
            )

    def __call__(self, producer: str, topic: str, event_ids: Sequence[str]) -> dict[str, str]:
        client = self._clients.get(producer)
        if client is None:
            raise ReplayUnavailable(
                f"topic: only {producer} may write {topic} on this event log, and no address "
                f"of {producer} is configured to ask it for the replay",
                field="topic",
                producer=producer,
            )
        outcomes: dict[str, str] = {}
        for start in range(0, len(event_ids), CHUNK):
            chunk = list(event_ids[start : start + CHUNK])
            body = self._call(producer, client, {"topic": topic, "event_ids": chunk})
            try:
                outcomes.update((str(i["event_id"]), str(i["outcome"])) for i in body["items"])
            except (KeyError, TypeError):
                raise ReplayFailed(
                    f"producer: {producer} answered something that is not the outcome of a replay",
                    field="producer",
                    producer=producer,
                ) from None
        return outcomes

    def close(self) -> None:
        for client in self._clients.values():
            client.close()

    def _call(self, producer: str, client: httpx.Client, body: dict[str, Any]) -> Any:
        where = f"POST {client.base_url}{PATH}"
        try:
            response = client.post(PATH, json=body)
        except httpx.TimeoutException:
            raise ReplayUnavailable(
                f"producer: {producer} did not answer within {self.timeout_s} s ({where}); "
                "nothing was marked, try again once it answers",
                field="producer",
                producer=producer,
            ) from None
        except httpx.HTTPError as exc:
            raise ReplayUnavailable(
                f"producer: {producer} could not be reached ({where}): {exc}; nothing was "
                "marked, try again once it answers",
                field="producer",
                producer=producer,
            ) from None
        if response.status_code >= 300:
            kind = ReplayUnavailable if response.status_code == 503 else ReplayFailed
            raise kind(
                f"producer: {producer} answered HTTP {response.status_code} ({where}): "
                f"{response.text[:300]}",
                field="producer",
                producer=producer,
            )
        try:
            return response.json()
        except ValueError:
            raise ReplayFailed(
                f"producer: {producer} answered something that is not JSON ({where})",
                field="producer",
                producer=producer,
            ) from None
