"""What every service's HTTP app has: health, readiness, metrics, trace ids, error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from teacher_hiring.messaging.tracing import traced
from teacher_hiring.runtime.db import read_only
from teacher_hiring.runtime.service import ServiceRuntime

ErrorMap = Mapping[type[Exception], int]


def create_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    errors: ErrorMap,
    max_request_bytes: int,
) -> FastAPI:
    """A FastAPI app wired to the runtime; routers are added by the service's entrypoint."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runtime.start_workers()
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.runtime = runtime

    @app.middleware("http")
    async def trace_and_limit(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_request_bytes:
            return JSONResponse(
                {"detail": f"body: larger than {max_request_bytes} bytes"}, status_code=413
            )
        with traced(request.headers.get("x-trace-id")) as trace_id:
            response = await call_next(request)
        response.headers["x-trace-id"] = trace_id
        return response

    for error_type, status in errors.items():
        app.add_exception_handler(error_type, _handler_for(status))

    @app.get("/health", tags=["operations"])
    def health() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok", "service": runtime.name}

    @app.get("/ready", tags=["operations"])
    def ready(response: Response) -> dict[str, Any]:
        """The database answers and the background workers run."""
        checks: dict[str, Any] = {}
        try:
            with read_only(runtime.engine) as conn:
                conn.execute(sa.text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {exc}"
        checks["workers"] = "ok" if runtime.workers_alive() else "stopped"
        ok = all(value == "ok" for value in checks.values())
        response.status_code = 200 if ok else 503
        return {"status": "ok" if ok else "unavailable", "checks": checks}

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def metrics() -> Response:
        runtime.relay.backlog()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def _handler_for(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(_request: Request, exc: Exception) -> Response:
        body: dict[str, Any] = {"detail": str(exc), "error": type(exc).__name__}
        body.update(getattr(exc, "extra", {}) or {})
        return JSONResponse(body, status_code=status)

    return handle
