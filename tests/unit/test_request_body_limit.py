"""The body limit counts the bytes received, whatever the headers say (ASGI, no server)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.types import Message

from teacher_hiring.runtime import bad_requests
from teacher_hiring.runtime.http import TraceAndLimit

LIMIT = 1024


class Note(BaseModel):
    text: str


def app() -> Any:
    api = FastAPI()
    bad_requests.install(api)

    @api.post("/notes")
    def post_note(note: Note) -> dict[str, int]:
        return {"length": len(note.text)}

    return TraceAndLimit(api, max_request_bytes=LIMIT)


def call(chunks: list[bytes], headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    """POST the chunks as an ASGI server would pass a body without Content-Length."""
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    read = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal read
        read += 1
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/notes",
        "raw_path": b"/notes",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), *(headers or [])],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app()(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return {"status": start["status"], "body": body, "messages_read": read}


def note(length: int) -> bytes:
    return b'{"text": "' + b"x" * length + b'"}'


def test_a_body_within_the_limit_in_many_chunks_is_read_whole() -> None:
    body = note(LIMIT - 20)
    answer = call([body[i : i + 100] for i in range(0, len(body), 100)])

    assert answer["status"] == 200
    assert answer["body"] == b'{"length":1004}'


def test_reading_stops_at_the_chunk_that_passes_the_limit() -> None:
    chunks = [b'{"text": "', *([b"x" * 400] * 10), b'"}']

    answer = call(chunks)

    assert answer["status"] == 413
    assert answer["body"] == b'{"detail":"body: larger than 1024 bytes"}'
    assert answer["messages_read"] == 4  # 10 + 400 + 400 bytes fit; 400 more pass the limit


@pytest.mark.parametrize("declared", [b"10", b"abc"])
def test_a_content_length_that_understates_the_body_does_not_lift_the_limit(
    declared: bytes,
) -> None:
    answer = call([note(2 * LIMIT)], headers=[(b"content-length", declared)])

    assert answer["status"] == 413


def test_a_body_that_is_not_utf8_is_a_validation_error_naming_the_body() -> None:
    answer = call([b'{"text": "\xff"}'])

    assert answer["status"] == 422
    assert b'"loc":["body"]' in answer["body"]
    assert bad_requests.UNREADABLE_BODY.encode() in answer["body"]
