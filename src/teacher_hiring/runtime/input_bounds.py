"""The bounds every request meets at the door, before any route or parser sees it.

One place for every service and the web process (docs/security.md, "Bad input"):

- headers: no value longer than MAX_HEADER_VALUE_BYTES, all of them together at most
  MAX_HEADERS_BYTES: 431 naming the header;
- the path and the query: no NUL character (PostgreSQL's text cannot hold one): 422 naming
  `path` or the query parameter;
- a JSON body: nested at most MAX_DEPTH deep (Python's parser and every walker after it recurse
  once a level: ten thousand `[` were a RecursionError, a 500), no NUL in a string or a key, no
  number beyond 64 bits (or beyond a double), no lone surrogate (`"\\ud800"`, which no UTF-8
  text can hold): 422 naming the field;
- a form body: no NUL in a name or a value: 422 naming the field.

The body is checked as the route reads it, once its last byte has arrived: a caller who may not
use a route is still told so first (the route's rules run before its body is read), and a
request refused here has written nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import HTTPException
from starlette.types import Message, Receive, Scope

MAX_DEPTH = 64
"""Arrays and objects inside one another: far above any body or schema of ours (a JSON Schema
of an event is under 15), far below what a recursive walker in Python can take."""
MAX_HEADER_VALUE_BYTES = 8192
MAX_HEADERS_BYTES = 32768
INT64_MAX = 2**63 - 1

Issue = dict[str, Any]
_NUL = "holds a NUL character"


class UnsafeBody(HTTPException):
    """A body refused at the door: 422 with one issue in the shape of FastAPI's validation
    errors, `loc` naming the field."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(status_code=422, detail=[issue])
        self.issue = issue

    @property
    def message(self) -> str:
        return str(self.issue["msg"])


def _issue(kind: str, loc: list[str | int], what: str) -> Issue:
    where = ".".join(str(part) for part in loc)
    return {"type": kind, "loc": loc, "msg": f"{where}: {what}", "input": None}


def too_deep(loc: list[str | int]) -> Issue:
    return _issue("json_too_deep", loc, f"nested deeper than {MAX_DEPTH} levels")


def json_issue(body: bytes, loc: list[str | int] | None = None) -> Issue | None:
    """What makes this JSON text unsafe to parse or to store, or None.

    Text that is not JSON at all is None too: the route's own parser answers it as before.
    """
    where: list[str | int] = ["body"] if loc is None else loc
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        reason = str(exc)
        if reason.startswith("depth limit"):
            return too_deep(where)
        if "surrogate" in reason and _is_utf8(body):
            return _issue("string_unicode", where, "a string escapes a lone surrogate")
        if "infinity" in reason:
            return _issue("number_too_large", where, "a number beyond 64 bits")
        return None
    return _walk(document, where)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def _walk(document: Any, root: list[str | int]) -> Issue | None:
    """The first unsafe value, depth first, without recursion."""
    stack: list[tuple[Any, list[str | int]]] = [(document, root)]
    while stack:
        value, loc = stack.pop()
        # A container inside MAX_DEPTH others is one level too many; a scalar there is not.
        if isinstance(value, dict | list) and len(loc) - len(root) >= MAX_DEPTH:
            return too_deep(root)
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    return _issue("string_nul", loc, f"a key {_NUL}")
                stack.append((item, [*loc, key]))
        elif isinstance(value, list):
            stack.extend((item, [*loc, index]) for index, item in enumerate(value))
        elif isinstance(value, str) and "\x00" in value:
            return _issue("string_nul", loc, _NUL)
        elif _is_number(value) and abs(value) > INT64_MAX:
            return _issue("number_too_large", loc, "a number beyond 64 bits")
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def form_issue(body: bytes) -> Issue | None:
    """A NUL in a form's field name or value, naming the field."""
    for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return _issue("string_nul", ["body", name.replace("\x00", "")], _NUL)
    return None


def scope_refusal(scope: Scope) -> tuple[int, str | list[Issue]] | None:
    """What is wrong with the request line and headers: (status, detail), or None."""
    total = 0
    for name, value in scope["headers"]:
        total += len(name) + len(value)
        if len(value) > MAX_HEADER_VALUE_BYTES:
            header = name.decode("latin-1")
            return 431, f"header {header}: longer than {MAX_HEADER_VALUE_BYTES} bytes"
    if total > MAX_HEADERS_BYTES:
        return 431, f"headers: larger than {MAX_HEADERS_BYTES} bytes together"
    if "\x00" in scope["path"]:
        return 422, [_issue("string_nul", ["path"], _NUL)]
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return 422, [_issue("string_nul", ["query", name.replace("\x00", "")], _NUL)]
    return None


def _body_kind(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = value.split(b";")[0].strip().lower()
            if media == b"application/json" or media.endswith(b"+json"):
                return "json"
            if media == b"application/x-www-form-urlencoded":
                return "form"
            return ""
    return "json"  # FastAPI reads a body without a content type as JSON


def checked(receive: Receive, scope: Scope) -> Receive:
    """`receive`, raising UnsafeBody when the body's last byte has arrived and the whole of it
    is unsafe (json_issue, form_issue). Raised inside the route's reading of the body, it
    reaches the app's handler of HTTP errors like any refusal."""
    kind = _body_kind(scope)
    if not kind:
        return receive
    chunks: list[bytes] = []

    async def receive_checked() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                body = b"".join(chunks)
                chunks.clear()
                issue = (json_issue if kind == "json" else form_issue)(body) if body else None
                if issue is not None:
                    raise UnsafeBody(issue)
        return message

    return receive_checked


def messages(detail: str | list[Issue]) -> Iterator[str]:
    if isinstance(detail, str):
        yield detail
    else:
        yield from (str(issue["msg"]) for issue in detail)
