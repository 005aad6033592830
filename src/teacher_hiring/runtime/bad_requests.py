"""What every service answers to a request it cannot take, and how its OpenAPI document says so.

- A body larger than the service's `max_request_bytes` is refused with 413: by its
  Content-Length before anything is read, and, for a body sent without one (chunked), as soon
  as the bytes received pass the limit, so that no request can make a service buffer more.
- A body that is not JSON text at all (bytes that are not UTF-8) is 422 naming `body`, in the
  shape of every other validation error, instead of FastAPI's bare 400.
- Integers a client sends are bounded by what every database column of ours holds, so that a
  huge number is a 422 naming its field rather than a database error.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive

DB_INT_MAX = 2**31 - 1
"""The largest integer a column of ours can hold on both databases (PostgreSQL's INTEGER)."""

UNREADABLE_BODY = "body: not JSON text (the bytes are not UTF-8)"


class Problem(BaseModel):
    detail: str = Field(description="What was wrong, starting with the part of the request")


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(description="Where: body, query, path or header, then the field")
    msg: str
    type: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class InvalidRequest(BaseModel):
    """A request that does not fit the document: one issue per field."""

    detail: list[ValidationIssue]


RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": Problem, "description": "The body is larger than the service accepts"},
    431: {
        "model": Problem,
        "description": "A header, or all of them together, is larger than the service accepts",
    },
}
"""Documented on every operation: any request may bring a body or headers too large."""


class AnsweringRoute(APIRoute):
    """A route class for a router that answers its own errors in its own shape, before the
    app's exception handlers see them: `answer` turns an exception into the response, or None
    to let it go on up."""

    def answer(self, exc: Exception) -> Response | None:
        raise NotImplementedError

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handle(request)
            except Exception as exc:
                response = self.answer(exc)
                if response is None:
                    raise
                return response

        return route


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large(limit))


def too_large(limit: int) -> str:
    return f"body: larger than {limit} bytes"


def limited(receive: Receive, limit: int) -> Receive:
    """`receive`, raising BodyTooLarge once the body's bytes pass the limit.

    Raised inside the route's reading of the body, it reaches the app's handler of HTTP errors
    like any refusal: the request is answered 413 and the rest of the body is never read.
    """
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return receive_within_limit


def is_unreadable_body(exc: Exception) -> bool:
    """FastAPI's answer to a body it could not decode: a 400 raised from the decoding error."""
    return (
        isinstance(exc, StarletteHTTPException)
        and exc.status_code == 400
        and isinstance(exc.__cause__, ValueError)
    )


def unreadable_body_issue() -> dict[str, Any]:
    return {"type": "json_invalid", "loc": ["body"], "msg": UNREADABLE_BODY, "input": None}


async def _http_error(request: Request, exc: Exception) -> Response:
    if is_unreadable_body(exc):
        return JSONResponse({"detail": [unreadable_body_issue()]}, status_code=422)
    assert isinstance(exc, StarletteHTTPException)
    return await http_exception_handler(request, exc)


def install(app: FastAPI) -> None:
    """Answer an unreadable body as a validation error (422 naming `body`)."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
