"""The submission route's fast lane: a verdict answered below FastAPI's per-request layers.

`POST /candidates/{candidate_id}/submissions` is what candidates call all day. Through FastAPI
a verdict spent about as much CPU in routing, dependency solving, parameter validation and
response serialisation as in checking the answer and writing its rows. This pure ASGI
middleware sits inside TraceAndLimit (trace ids, body limits, input bounds, request counts
all still apply) and answers the request itself when everything about it is in order:

- a bearer token that verifies and names this candidate (runtime.auth's own checks);
- a JSON body (Content-Type application/json) that the route's own model, SubmissionIn,
  accepts, and an Idempotency-Key within its bound;
- SQLite with every link of the submission in async mode (the route's inline case);
- a verdict from handlers.submit_answer, encoded once with orjson: the same fields, in the
  same order, as the route's response model.

Anything else goes to the FastAPI route unchanged, with the body it was sent: a refusal of
the token or of the body, a domain error (raised before the transaction commits, so nothing
was written and the route meets the same error again), any other deployment. So every answer
other than a verdict is the route's own, and the route stays in the OpenAPI document as it
was.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from teacher_hiring.hiring.domain import commands
from teacher_hiring.hiring.entrypoints.deps import Hiring
from teacher_hiring.hiring.entrypoints.http import IDEMPOTENCY_KEY_MAX
from teacher_hiring.hiring.entrypoints.schemas import SubmissionIn
from teacher_hiring.hiring.service_layer import handlers
from teacher_hiring.runtime.auth import same_id
from teacher_hiring.runtime.tokens import InvalidToken, Role, Tokens

PREFIX = "/candidates/"
SUFFIX = "/submissions"
TEMPLATE = "/candidates/{candidate_id}/submissions"
_HEADERS = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class _Route:
    """What the request counter reads of a matched route (runtime.http_metrics): its path."""

    path: str


ROUTE = _Route(TEMPLATE)


class SubmissionFastLane:
    """Pure ASGI middleware; see the module's docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not path.startswith(PREFIX)
            or not path.endswith(SUFFIX)
        ):
            await self.app(scope, receive, send)
            return
        candidate_id = path[len(PREFIX) : -len(SUFFIX)]
        try:
            body = await _read_body(receive)
        except Exception as exc:
            # A refusal raised while reading (too large, unsafe): the route reads it again.
            await self.app(scope, _raising(exc), send)
            return
        answer = None if "/" in candidate_id else self._verdict(scope, candidate_id, body)
        if answer is None:
            await self.app(scope, _replaying(body, receive), send)
            return
        scope["route"] = ROUTE  # counted by its template, as the router would
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*_HEADERS, (b"content-length", str(len(answer)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    def _verdict(self, scope: Scope, candidate_id: str, body: bytes) -> bytes | None:
        """The verdict's JSON, or None where the route must answer."""
        app = scope.get("app")
        hiring: Hiring | None = getattr(getattr(app, "state", None), "hiring", None)
        tokens: Tokens | None = getattr(getattr(app, "state", None), "tokens", None)
        if hiring is None or tokens is None or not hiring.inline_writes:
            return None
        authorization = content_type = key = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-type":
                content_type = value
            elif name == b"idempotency-key":
                if key is not None:
                    return None  # the route decides what a repeated header means
                key = value.decode("latin-1")
        if content_type is None or content_type.split(b";")[0].strip() != b"application/json":
            return None
        if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
            return None
        if not _is_the_candidate(tokens, authorization, candidate_id):
            return None
        try:
            submitted = SubmissionIn.model_validate_json(body)
        except ValidationError:
            return None
        if hiring.calling is not None:
            return None  # links in sync mode: the route's thread-pool path
        cmd = commands.SubmitAnswer(
            candidate_id=candidate_id,
            exercise_id=submitted.exercise_id,
            exercise_version=submitted.exercise_version,
            answer=submitted.answer,
            idempotency_key=key,
        )
        try:
            verdict = handlers.submit_answer(cmd, hiring.uow(), hiring.rules, None, hiring.produced)
        except Exception:
            # Raised before the commit (the transaction rolled back): the route meets it again
            # and answers it as it always has.
            return None
        return orjson.dumps(verdict)


def _is_the_candidate(tokens: Tokens, authorization: bytes | None, candidate_id: str) -> bool:
    """Whether the header holds a valid candidate's token naming `candidate_id`."""
    if authorization is None:
        return False
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        claims = tokens.verify(token.strip())
    except InvalidToken:
        return False
    return claims.role is Role.candidate and same_id(claims.subject, candidate_id)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Disconnected()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class _Disconnected(Exception):
    """The client went away before its body arrived."""


def _replaying(body: bytes, receive: Receive) -> Receive:
    """The body once, as one message; then whatever the server sends (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _raising(exc: Exception) -> Receive:
    async def again() -> Message:
        if isinstance(exc, _Disconnected):
            return {"type": "http.disconnect"}
        raise exc

    return again
