"""Reconciliation's calls to the producers of money: what each issued, and re-sending some.

Only an operator's reconciliation calls them, never a consumer or an account page. Every call
has a timeout; a producer that does not answer is named in the error (503), one that answers
with an error or with something that is not a page of issued money too (502).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from teacher_hiring.bonus.domain.errors import ProducerFailed, ProducerUnavailable
from teacher_hiring.bonus.service_layer.ports import IssuedMoney
from teacher_hiring.bonus.service_layer.results import Resent

PRODUCERS = ("hiring", "exercises")
"""The services that issue money: hiring (BonusAdded, FineAdded), exercises (PaymentCommited)."""


class ProducersClient:
    """One HTTP client per producer (`clients` lets the tests hand in their own)."""

    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        timeout_s: float,
        page_size: int = 1000,
        clients: Mapping[str, httpx.Client] | None = None,
        auth: httpx.Auth | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self.page_size = page_size
        self._clients = dict(clients or {})
        for producer, url in urls.items():
            self._clients.setdefault(
                producer,
                httpx.Client(
                    base_url=url.rstrip("/"),
                    timeout=httpx.Timeout(timeout_s),
                    headers={"accept": "application/json"},
                    auth=auth,  # bonus's service token
                ),
            )

    @property
    def producers(self) -> list[str]:
        return list(self._clients)

    def issued(
        self, producer: str, *, since: str, until: str, manager_id: str | None
    ) -> IssuedMoney:
        """Every page of the money the producer issued in [since, until)."""
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"since": since, "until": until, "limit": self.page_size}
        if manager_id is not None:
            params["manager_id"] = manager_id
        while True:
            body = self._call(producer, "GET", "/operator/money-issued", params=params)
            try:
                page, kept_since, cursor = body["items"], body["kept_since"], body["next"]
                if not isinstance(page, list) or not isinstance(kept_since, str):
                    raise TypeError
            except (KeyError, TypeError):
                raise self._unreadable(producer, "a page of issued money") from None
            items.extend(page)
            if cursor is None:
                return IssuedMoney(producer, kept_since, items)
            params["after"] = cursor

    def resend(self, producer: str, event_ids: Sequence[str]) -> list[Resent]:
        """Ask the producer to stage these events again under their own ids; the outcomes."""
        outcomes: list[Resent] = []
        for start in range(0, len(event_ids), self.page_size):
            chunk = list(event_ids[start : start + self.page_size])
            body = self._call(
                producer, "POST", "/operator/money-issued/resend", json={"event_ids": chunk}
            )
            try:
                outcomes.extend(
                    Resent(producer, str(i["event_id"]), str(i["outcome"])) for i in body["items"]
                )
            except (KeyError, TypeError):
                raise self._unreadable(producer, "the outcome of a resend") from None
        return outcomes

    def close(self) -> None:
        for client in self._clients.values():
            client.close()

    def _call(self, producer: str, method: str, path: str, **kwargs: Any) -> Any:
        client = self._clients[producer]
        where = f"{method} {client.base_url}{path}"
        try:
            response = client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ProducerUnavailable(
                f"{producer} did not answer within {self.timeout_s} s ({where})",
                producer=producer,
            ) from None
        except httpx.HTTPError as exc:
            raise ProducerUnavailable(
                f"{producer} could not be reached ({where}): {exc}", producer=producer
            ) from None
        if response.status_code >= 300:
            raise ProducerFailed(
                f"{producer} answered HTTP {response.status_code} ({where}): {response.text[:300]}",
                producer=producer,
            )
        try:
            return response.json()
        except ValueError:
            raise self._unreadable(producer, "JSON") from None

    def _unreadable(self, producer: str, what: str) -> ProducerFailed:
        return ProducerFailed(
            f"{producer} answered something that is not {what}", producer=producer
        )
