"""Where the relay sends outbox rows: the event log, or an HTTP endpoint of the receiver."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from teacher_hiring.messaging.transport import OutgoingMessage, Producer


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    event_id: str
    event_name: str
    topic: str
    partition_key: str
    body: bytes
    trace_id: str


class Sink(ABC):
    name: str

    @abstractmethod
    def deliver(self, rows: Sequence[OutboxRow]) -> None:
        """Deliver every row, in order, or raise; a row may be delivered more than once."""

    def close(self) -> None:  # noqa: B027 - most sinks hold nothing to release
        """Release the sink's connections."""


class LogSink(Sink):
    """Appends rows to the transport (embedded log or Kafka), keyed for per-aggregate order."""

    name = "log"

    def __init__(self, producer: Producer) -> None:
        self.producer = producer

    def deliver(self, rows: Sequence[OutboxRow]) -> None:
        self.producer.send(
            [
                OutgoingMessage(
                    topic=row.topic,
                    key=row.partition_key,
                    value=row.body,
                    headers={
                        "event_id": row.event_id,
                        "event_name": row.event_name,
                        "trace_id": row.trace_id,
                    },
                )
                for row in rows
            ]
        )


class PushFailed(RuntimeError):
    pass


class PushTimedOut(PushFailed):
    """The receiver did not answer in time (it may still have applied the event)."""


class PushUnreachable(PushFailed):
    """No connection to the receiver: it is down, or the address is wrong."""


class PushRefused(PushFailed):
    """The receiver answered with an error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class HttpPushSink(Sink):
    """POSTs each envelope to the receiver, which de-duplicates by event id in its inbox.

    `body` turns a row into the request body when the endpoint takes another shape than the
    envelope (a synchronous API kept for a link's migration); it must keep the event id.
    `name` labels the relay's metrics and back-off: one per receiving endpoint. `auth` signs
    each request (the sending service's bearer token).
    """

    name = "http-push"

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 2.0,
        auth: httpx.Auth | None = None,
        body: Callable[[OutboxRow], bytes] | None = None,
        name: str | None = None,
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        if name is not None:
            self.name = name
        self._body = body or (lambda row: row.body)
        headers = {"content-type": "application/json"}
        self._client = httpx.Client(timeout=timeout_s, headers=headers, auth=auth)

    def deliver(self, rows: Sequence[OutboxRow]) -> None:
        for row in rows:
            try:
                response = self._client.post(
                    self.url, content=self._body(row), headers={"x-trace-id": row.trace_id}
                )
            except httpx.TimeoutException as exc:
                raise PushTimedOut(f"{self.url}: no answer within {self.timeout_s} s") from exc
            except (httpx.ConnectError, httpx.RemoteProtocolError) as exc:
                raise PushUnreachable(f"{self.url}: {exc}") from exc
            except httpx.HTTPError as exc:
                raise PushFailed(f"{self.url}: {exc}") from exc
            if response.status_code >= 300:
                text = response.text[:200]
                raise PushRefused(
                    f"{self.url}: HTTP {response.status_code} {text}", response.status_code
                )

    def close(self) -> None:
        self._client.close()
