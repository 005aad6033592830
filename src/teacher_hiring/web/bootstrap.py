"""create_app: the web process put together from its settings (never at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

import httpx
import sqlalchemy as sa
from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError, ProgrammingError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from teacher_hiring.foundation.ids import INSTANCE_HEADER, instance_id
from teacher_hiring.runtime.bad_requests import limited
from teacher_hiring.runtime.db import dispose, make_engine
from teacher_hiring.runtime.input_bounds import UnsafeBody, checked, messages, scope_refusal
from teacher_hiring.runtime.registration_limits import RegistrationLimits
from teacher_hiring.web.accounts.store import Accounts
from teacher_hiring.web.api import Api, Refused, ServiceDown
from teacher_hiring.web.auth import VISITOR_COOKIE, CsrfRefused, Forbidden, NotSignedIn
from teacher_hiring.web.pages import candidates, managers, operators, sign_in
from teacher_hiring.web.rendering import HERE, render, templates
from teacher_hiring.web.settings import WebSettings

VISITOR_COOKIE_AGE_S = 24 * 3600
MAX_REQUEST_BYTES = 65536
"""The largest body a page takes: its forms hold a few short fields and an answer's text."""
STATIC_CACHE = "public, max-age=300"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(
    settings: WebSettings, *, api_transport: httpx.BaseTransport | None = None
) -> FastAPI:
    """The web app: its accounts database (tables created if missing), the services' client,
    the pages of every audience, the error pages. `api_transport` lets a test answer for the
    services."""
    engine = make_engine(settings.database_url)
    accounts = Accounts(engine)
    _create_tables(accounts)
    api = Api(settings, transport=api_transport)
    # Outside development the templates never change under a running process: no per-render
    # check of their files' times.
    templates.env.auto_reload = settings.environment == "development"

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            api.close()
            dispose(engine)

    app = FastAPI(
        title="teacher-hiring web",
        description="The pages of candidates, managers and operators (docs/web.md).",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.registration_limits = RegistrationLimits(settings)
    app.state.accounts = accounts
    app.state.api = api
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (sign_in, candidates, managers, operators):
        app.include_router(module.router)
    _add_probes(app, accounts)
    _add_error_pages(app)
    app.add_middleware(PageHeaders)
    return app


def bootstrap(settings: WebSettings) -> FastAPI:
    """What `teacher-hiring serve web` runs."""
    return create_app(settings)


def _create_tables(accounts: Accounts) -> None:
    try:
        accounts.create_tables()
    except (OperationalError, ProgrammingError):
        # Two instances starting on one PostgreSQL database at once: one created the tables
        # between the other's check and its CREATE. They exist now.
        accounts.create_tables()


class PageHeaders:
    """Every answer's security and cache headers, and the visitor cookie when a page made one
    (auth.visitor_id). Plain ASGI: a BaseHTTPMiddleware would cost every page a task and a
    stream of its own.

    Refuses, as every service does, what runtime.input_bounds refuses (oversized headers,
    NUL characters in the address or a form, JSON nested too deep) and bodies over
    MAX_REQUEST_BYTES, before any page sees them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        static = scope["path"].startswith("/static/")
        refusal = scope_refusal(scope)
        if refusal is not None:
            status, detail = refusal
            answer = PlainTextResponse("\n".join(messages(detail)), status_code=status)
            await answer(scope, receive, send)
            return
        receive = checked(limited(receive, MAX_REQUEST_BYTES), scope)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Cache-Control", STATIC_CACHE if static else "no-store")
                new_visitor = state.get("new_visitor")
                if new_visitor:
                    secure = scope.get("scheme") == "https"
                    headers.append("set-cookie", _visitor_cookie(new_visitor, secure))
            await send(message)

        await self.app(scope, receive, with_headers)


def _visitor_cookie(value: str, secure: bool) -> str:
    carrier = Response()
    carrier.set_cookie(
        VISITOR_COOKIE,
        value,
        max_age=VISITOR_COOKIE_AGE_S,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    return carrier.headers["set-cookie"]


def _add_probes(app: FastAPI, accounts: Accounts) -> None:
    probe_headers = {INSTANCE_HEADER: instance_id()}

    @app.get("/health", include_in_schema=False)
    def health() -> PlainTextResponse:
        return PlainTextResponse("ok", headers=probe_headers)

    @app.get("/ready", include_in_schema=False)
    def ready() -> PlainTextResponse:
        """Public: names the failing part, never the database's error text."""
        try:
            with accounts.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception:
            return PlainTextResponse("not ready: database", 503, headers=probe_headers)
        return PlainTextResponse("ready", headers=probe_headers)


def _add_error_pages(app: FastAPI) -> None:
    async def not_signed_in(request: Request, _exc: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)

    async def forbidden(request: Request, exc: Exception) -> Response:
        return _error(request, 403, "Not your page", str(exc))

    async def refused_csrf(request: Request, exc: Exception) -> Response:
        message = f"{exc}. Go back, reload the page and send the form again."
        return _error(request, 403, "Form refused", message)

    async def service_down(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceDown)
        message = (
            f"The {exc.service} service {exc.reason}. Try again in a moment; "
            "nothing you sent was lost."
        )
        return _error(request, 503, f"{exc.service} is not answering", message)

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        if exc.status == 404:
            return _error(request, 404, "Not found", exc.message)
        if exc.status == 401:  # the services do not accept the tokens this process mints
            message = (
                f"The {exc.service} service did not accept the pages' credentials: "
                "WEB_AUTH_SECRET must be the platform's secret."
            )
            return _error(request, 502, "The pages are misconfigured", message)
        if exc.status == 403:
            return _error(request, 403, "Not your page", exc.message)
        return _error(request, exc.status, "Refused", exc.message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return _error(request, 404, "Not found", "There is no page at this address.")
        if isinstance(exc, UnsafeBody):
            return _error(request, 422, "Refused", exc.message)
        return _error(request, exc.status_code, "Refused", str(exc.detail))

    app.add_exception_handler(NotSignedIn, not_signed_in)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(CsrfRefused, refused_csrf)
    app.add_exception_handler(ServiceDown, service_down)
    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(StarletteHTTPException, http_error)


def _error(request: Request, status: int, title: str, message: str) -> Response:
    return render(
        request,
        "errors/error.html",
        {"title": title, "message": message, "status": status},
        status_code=status,
    )
