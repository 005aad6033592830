"""A stand-in for the far end of a link in sync mode, on a real socket.

Records every request; answers each path with what the test set (a status, a JSON body, a
delay), 200 `{}` otherwise. It lets a test make the other service slow or failing on purpose,
which the real one would not do; the end-to-end tests use the real services.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.wire import RecordCodec


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    delay_s: float = 0.0


class StandIn:
    def __init__(self) -> None:
        self.received: list[tuple[str, str, Any]] = []
        self.raw: list[tuple[str, bytes, dict[str, str]]] = []  # path, body, headers
        self.authorizations: list[str] = []  # each request's Authorization header, in order
        self.answers: dict[str, Answer] = {}
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                stand_in.authorizations.append(self.headers.get("authorization", ""))
                stand_in.received.append((self.command, self.path, orjson.loads(raw or b"null")))
                stand_in.raw.append((self.path, raw, dict(self.headers.items())))
                answer = stand_in.answers.get(self.path, Answer())
                time.sleep(answer.delay_s)
                body = orjson.dumps({} if answer.body is None else answer.body)
                try:
                    self.send_response(answer.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the caller gave up waiting

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def bodies(self, path: str) -> list[Any]:
        return [body for _, at, body in self.received if at == path]

    def events(self, path: str) -> list[dict[str, Any]]:
        """The events pushed to the path, put back together from body and `ce-` headers."""
        codec = RecordCodec(SchemaRegistry.load())
        return [
            codec.decode_http(body, headers).as_dict()
            for at, body, headers in self.raw
            if at == path
        ]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    running = StandIn()
    yield running
    running.stop()
