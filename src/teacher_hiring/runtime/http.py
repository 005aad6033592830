"""What every service's HTTP app has: health, readiness, metrics, trace ids, error mapping."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from teacher_hiring.foundation.ids import INSTANCE_HEADER, instance_id
from teacher_hiring.foundation.sql import read_only
from teacher_hiring.messaging.tracing import traced
from teacher_hiring.runtime import (
    auth,
    bad_requests,
    dead_letters_http,
    input_bounds,
    operator_http,
    registry_api,
    revocations_http,
)
from teacher_hiring.runtime.http_metrics import count_request
from teacher_hiring.runtime.service import ServiceRuntime

ErrorMap = Mapping[type[Exception], int]
REGISTRY_PREFIX = "/registry"
"""Where every service serves the schema registry, whose errors have Confluent's shape."""

RETRY_AFTER_S = 1
"""Seconds a "not yet" refusal asks the caller to wait (an error with `not_yet` set): events
on their way between the services arrive within that, even from the log."""
RETRY_AFTER = {
    "Retry-After": {
        "description": f"Seconds to wait before asking again ({RETRY_AFTER_S}): the refusal "
        "may lift once events on their way have arrived",
        "schema": {"type": "integer", "minimum": 1},
    }
}
"""The header in the OpenAPI document, for the routes whose refusals may be "not yet"."""


def pushed_event_body(events: str) -> dict[str, Any]:
    """The `openapi_extra` of a route that takes an event pushed to it over HTTP, laid out as
    messaging.wire says; `events` names the events (and versions) it takes."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": f"{events}: the payload, its id, name, version and origin in "
            "CloudEvents `ce-` headers (or the whole envelope, as before)",
        }
    }


def create_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    errors: ErrorMap,
    max_request_bytes: int,
    routers: Sequence[APIRouter] = (),
    inner_middleware: Sequence[type[Any]] = (),
) -> FastAPI:
    """A FastAPI app wired to the runtime, with the service's own `routers`.

    `inner_middleware` (pure ASGI classes taking the app) run inside TraceAndLimit, in order:
    a service's fast lane for a hot route still gets trace ids, limits and request counts.

    They are included first: a request is matched against the routes in order, router by
    router, and the service's routes are what candidates and managers call all day; the
    operators' routes come after them. Routers a service adds later go last.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runtime.start_workers()
        # What start-up built (modules, routes, schemas, compiled statements) lives as long as
        # the process: frozen, it is left out of the collector's full passes, which would
        # otherwise walk all of it and stop every request for tens of milliseconds.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            runtime.close()
            # Collectable again: a process that runs one app after another (the tests) would
            # otherwise keep every stopped one.
            gc.unfreeze()

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        responses=bad_requests.RESPONSES,
    )
    app.state.runtime = runtime

    for middleware in reversed(inner_middleware):  # each added one wraps the ones before
        app.add_middleware(middleware)
    app.add_middleware(TraceAndLimit, max_request_bytes=max_request_bytes, service=runtime.name)

    bad_requests.install(app)
    for error_type, status in {**operator_http.ERRORS, **errors}.items():
        app.add_exception_handler(error_type, _handler_for(status))
    app.state.links = []
    auth.install(app, runtime.tokens)  # who may call what: docs/security.md
    for router in routers:
        app.include_router(router)
    app.include_router(operator_http.router, dependencies=[auth.OPERATOR])
    app.include_router(operator_http.topics, dependencies=[auth.OPERATOR])
    app.include_router(dead_letters_http.router, dependencies=[auth.OPERATOR])
    app.include_router(dead_letters_http.replays, dependencies=[auth.OPERATOR_OR_SERVICE])
    app.include_router(revocations_http.router, dependencies=[auth.OPERATOR])
    app.include_router(registry_api.router, prefix=REGISTRY_PREFIX)  # reads public, writes refused

    @app.get("/health", tags=["operations"])
    def health(response: Response) -> dict[str, str]:
        """The process is up."""
        response.headers[INSTANCE_HEADER] = instance_id()
        return {"status": "ok", "service": runtime.name}

    @app.get(
        "/ready",
        tags=["operations"],
        responses={
            503: {
                "description": "The database does not answer, or a worker stopped: `checks` "
                "names the failing part; the error's text only for an operator's token"
            }
        },
    )
    def ready(request: Request, response: Response) -> dict[str, Any]:
        """The database answers and the background workers run.

        Public: anyone sees which part fails. What the database said (its error's text, which
        may name hosts, users and tables) is shown only to a caller with an operator's token.
        """
        checks: dict[str, Any] = {}
        error = ""
        try:
            with read_only(runtime.engine) as conn:
                conn.execute(sa.text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = "not ready"
            error = f"error: {exc}"
        checks["workers"] = "ok" if runtime.workers_alive() else "stopped"
        ok = all(value == "ok" for value in checks.values())
        response.status_code = 200 if ok else 503
        response.headers[INSTANCE_HEADER] = instance_id()
        if error and auth.holds_operator_token(request):
            checks["database"] = error
        return {"status": "ok" if ok else "unavailable", "checks": checks}

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def metrics() -> Response:
        runtime.relay.backlog()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


class TraceAndLimit:
    """Pure ASGI middleware (Starlette's BaseHTTPMiddleware costs a task per request).

    Binds the caller's X-Trace-Id (or a new one) for the request and every event it causes,
    echoes it on the response, and refuses bodies over the limit: by Content-Length before
    reading them, and by the bytes received for a body sent without one (chunked). Refuses
    what runtime.input_bounds refuses (oversized headers, NUL characters, JSON nested too
    deep or with numbers beyond 64 bits). Counts
    every request by route (`http_requests_total`): the calls a service receives (Problem-060).
    """

    def __init__(self, app: ASGIApp, max_request_bytes: int, service: str = "") -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = input_bounds.scope_refusal(scope)
        if refusal is not None:
            status, detail = refusal
            body: dict[str, Any] = {"detail": detail}
            if status == 422 and scope["path"].startswith(f"{REGISTRY_PREFIX}/"):
                body = registry_api.unprocessable(input_bounds.messages(detail))
            await JSONResponse(body, status_code=status)(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_request_bytes:
            response = JSONResponse(
                {"detail": bad_requests.too_large(self.max_request_bytes)}, status_code=413
            )
            await response(scope, receive, send)
            return
        within_limit = input_bounds.checked(
            bad_requests.limited(receive, self.max_request_bytes), scope
        )
        incoming = headers.get(b"x-trace-id")
        with traced(incoming.decode("latin-1")[:64] if incoming else None) as trace_id:
            echo = (b"x-trace-id", trace_id.encode("latin-1"))

            async def send_with_trace(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), echo]
                await send(message)

            try:
                await self.app(scope, within_limit, send_with_trace)
            finally:
                count_request(self.service, scope)


def _handler_for(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(_request: Request, exc: Exception) -> Response:
        body: dict[str, Any] = {"detail": str(exc), "error": type(exc).__name__}
        body.update(getattr(exc, "extra", {}) or {})
        # Where the platform is still eventually consistent the answer says so, and when to
        # ask again, rather than look like a refusal for good.
        retry = {"Retry-After": str(RETRY_AFTER_S)} if getattr(exc, "not_yet", False) else None
        if getattr(exc, "retry_after_s", None):  # a rate limit knows when it lifts
            retry = {"Retry-After": str(exc.retry_after_s)}  # type: ignore[attr-defined]
        return JSONResponse(body, status_code=status, headers=retry)

    return handle
