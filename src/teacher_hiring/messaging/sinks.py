"""Where the relay sends outbox rows: the event log, or an HTTP endpoint of the receiver."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.transport import OutgoingMessage, Producer
from teacher_hiring.messaging.wire import RecordCodec, to_http_headers


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    event_id: str
    event_name: str
    topic: str
    partition_key: str
    body: bytes  # the whole envelope as the outbox stores it; messaging.wire lays it out
    trace_id: str


class Sink(ABC):
    name: str

    @abstractmethod
    def deliver(self, rows: Sequence[OutboxRow]) -> None:
        """Deliver every row, in order, or raise; a row may be delivered more than once."""

    def close(self) -> None:  # noqa: B027 - most sinks hold nothing to release
        """Release the sink's connections."""


class LogSink(Sink):
    """Appends rows to the transport (embedded log or Kafka), keyed for per-aggregate order,
    laid out by messaging.wire (without `registry`, by the registry's own folder)."""

    name = "log"

    def __init__(self, producer: Producer, registry: SchemaRegistry | None = None) -> None:
        self.producer = producer
        self.codec = RecordCodec(registry or SchemaRegistry.load())

    def deliver(self, rows: Sequence[OutboxRow]) -> None:
        self.producer.send([self._message(row) for row in rows])

    def _message(self, row: OutboxRow) -> OutgoingMessage:
        value, headers = self.codec.encode_stored(row.body)
        return OutgoingMessage(topic=row.topic, key=row.partition_key, value=value, headers=headers)


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
    """POSTs each event to the receiver, which de-duplicates by event id in its inbox.

    The request is laid out like a record (messaging.wire): the body as the event's schema
    says, the rest in `ce-` headers. `body` turns a row into the request body instead when the
    endpoint takes another shape (a synchronous API kept for a link's migration); it must keep
    the event id. Without `registry`, the events are laid out by the registry's own folder.
    `name` labels the relay's metrics and back-off: one per receiving endpoint. `auth` signs
    each request (the sending service's bearer token).
    """

    name = "http-push"

    def __init__(
        self,
        url: str,
        *,
        registry: SchemaRegistry | None = None,
        timeout_s: float = 2.0,
        auth: httpx.Auth | None = None,
        body: Callable[[OutboxRow], bytes] | None = None,
        name: str | None = None,
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        if name is not None:
            self.name = name
        self._registry = registry
        self._codec: RecordCodec | None = None
        self._body = body
        headers = {"content-type": "application/json"}
        self._client = httpx.Client(timeout=timeout_s, headers=headers, auth=auth)

    def deliver(self, rows: Sequence[OutboxRow]) -> None:
        for row in rows:
            content, headers = self._request(row)
            try:
                response = self._client.post(self.url, content=content, headers=headers)
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

    def _request(self, row: OutboxRow) -> tuple[bytes, dict[str, str]]:
        if self._body is not None:
            return self._body(row), {"x-trace-id": row.trace_id}
        if self._codec is None:
            self._codec = RecordCodec(self._registry or SchemaRegistry.load())
        value, headers = self._codec.encode_stored(row.body)
        return value, {**to_http_headers(headers), "x-trace-id": row.trace_id}

    def close(self) -> None:
        self._client.close()
