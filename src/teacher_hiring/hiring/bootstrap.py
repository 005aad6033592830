"""Building the hiring service: runtime, app, routes, consumers — at call time, never on import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from teacher_hiring.foundation.time import Clock, system_clock
from teacher_hiring.hiring.adapters import calls, event_versions
from teacher_hiring.hiring.entrypoints import consumers, erasure_http
from teacher_hiring.hiring.entrypoints.deps import Hiring
from teacher_hiring.hiring.entrypoints.errors import ERRORS
from teacher_hiring.hiring.entrypoints.hot_route import SubmissionFastLane
from teacher_hiring.hiring.entrypoints.http import ROUTERS
from teacher_hiring.hiring.settings import HiringSettings
from teacher_hiring.money import http as issued_http
from teacher_hiring.money import issued
from teacher_hiring.runtime import auth
from teacher_hiring.runtime import event_versions as produced_versions
from teacher_hiring.runtime.assemble import assemble
from teacher_hiring.runtime.http import create_app
from teacher_hiring.runtime.origins import Origins
from teacher_hiring.runtime.refresh_http import router as refresh_router
from teacher_hiring.runtime.refresh_tokens import RefreshTokens
from teacher_hiring.runtime.registration_limits import RegistrationLimits

NAME = "hiring"
MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def bootstrap(settings: HiringSettings | None = None, clock: Clock = system_clock) -> FastAPI:
    """The app; `clock` gives the service's "now" (a test sets it to disagree with exercises')."""
    settings = settings or HiringSettings()
    runtime = assemble(
        NAME,
        settings,
        migrations=MIGRATIONS,
        subscriptions=consumers.subscriptions(clock),
        upcaster=consumers.upcaster(),
        flags={
            **calls.default_flags(settings),
            **event_versions.default_flags(settings.leak_events_version),
        },
        clock=clock,
        keepers=[issued.keep],
        kept_events=[issued.issued_money],
        peers={"exercises": settings.exercises_url},
    )
    submission_calls = calls.wire(runtime, settings)
    app = create_app(
        runtime,
        title="Teacher hiring",
        description=(
            "Candidates register, receive exercises and submit answers; each answer is checked "
            "at once from hiring's own replica of exercises, and its consequences (ratings, "
            "bonuses, fines, complications, promotions) leave as events."
        ),
        errors=ERRORS,
        max_request_bytes=settings.max_request_bytes,
        routers=ROUTERS,
        inner_middleware=[SubmissionFastLane],
    )
    versions = event_versions.produced_versions(runtime.flags, runtime.registry)
    app.state.hiring = Hiring(
        engine=runtime.engine,
        outbox=runtime.outbox,
        registry=runtime.registry,
        rules=settings.rules(),
        calls=submission_calls,
        versions=versions,
        registration_limits=RegistrationLimits(settings),
    )
    app.state.links = submission_calls.links
    app.state.origins = Origins(settings.secret)  # runtime/origins.py
    app.state.event_versions = versions
    app.include_router(produced_versions.router, dependencies=[auth.OPERATOR])
    app.include_router(erasure_http.router)
    app.state.refresh_tokens = RefreshTokens(runtime.engine, settings.refresh_token_ttl_s)
    app.include_router(refresh_router)  # candidates' refresh tokens (docs/security.md)
    issued_http.install(app, runtime, settings.money_retention_s)
    return app
