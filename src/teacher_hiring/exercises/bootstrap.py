"""Building the exercises service: settings -> runtime (engine, outbox, relay, consumers) -> app.

Nothing here runs at import time; `bootstrap()` is called by the CLI and by the tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Connection

from teacher_hiring.exercises.adapters import event_versions, links
from teacher_hiring.exercises.adapters.hiring_client import HiringCompletions
from teacher_hiring.exercises.adapters.repository import Repository
from teacher_hiring.exercises.domain.model import ComplicationRules
from teacher_hiring.exercises.entrypoints import consumers, reviews_http
from teacher_hiring.exercises.entrypoints.deps import Services
from teacher_hiring.exercises.entrypoints.errors import ERRORS
from teacher_hiring.exercises.entrypoints.http import ROUTERS
from teacher_hiring.exercises.service_layer.ports import ExercisesRepository
from teacher_hiring.exercises.settings import ExercisesSettings
from teacher_hiring.foundation.time import Clock, system_clock
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.money import http as issued_http
from teacher_hiring.money import issued
from teacher_hiring.runtime import auth
from teacher_hiring.runtime import event_versions as produced_versions
from teacher_hiring.runtime.assemble import assemble
from teacher_hiring.runtime.http import create_app
from teacher_hiring.runtime.link_calls import CallsInRequest
from teacher_hiring.runtime.links import left_to_requests, router_of
from teacher_hiring.runtime.origins import Origins
from teacher_hiring.runtime.refresh_http import router as refresh_router
from teacher_hiring.runtime.refresh_tokens import RefreshTokens
from teacher_hiring.runtime.service import ServiceRuntime

NAME = "exercises"
MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"
DESCRIPTION = """Exercise management and authoring (seed letter З).

Managers write exercises and save new versions of them; every change is published as an event.
When hiring reports an exercise solved more than ten times, a complication assignment opens;
the assignee's next save closes it and pays them once. Managers also see a replica of hiring's
candidates, fed by events, without calling hiring.
"""


def bootstrap(settings: ExercisesSettings | None = None, clock: Clock = system_clock) -> FastAPI:
    """The app; `clock` gives the service's "now" (a test sets it to disagree with hiring's)."""
    settings = settings or ExercisesSettings()
    rules = ComplicationRules(
        payment_cents=settings.complication_payment_cents,
        assignee_policy=settings.complication_assignee,
    )
    runtime: ServiceRuntime | None = None
    leaks: HiringCompletions | None = None

    def uow_on(conn: Connection) -> UnitOfWork[ExercisesRepository]:
        assert runtime is not None
        return UnitOfWork.joining(conn, Repository, outbox=runtime.outbox)

    def leaked_version(payload: dict[str, Any]) -> int:
        """What a v0 leak report leaves out, from hiring's records (adapters.hiring_client)."""
        assert leaks is not None
        return leaks.leaked_version(payload["exercise_id"], payload["candidate_id"])

    runtime = assemble(
        NAME,
        settings,
        migrations=MIGRATIONS,
        subscriptions=consumers.subscriptions(uow_on, rules),
        upcaster=consumers.upcaster(leaked_version),
        clock=clock,
        keepers=[issued.keep],
        kept_events=[issued.issued_money],
        peers={"hiring": settings.hiring_url},
        flags={
            links.FLAG: settings.exercise_updates_link,
            links.PAYMENT_FLAG: settings.payment_link,
            **event_versions.default_flags(
                settings.exercise_events_version, settings.manager_events_version
            ),
        },
    )
    to_hiring, to_bonus = runtime.service_auth("hiring"), runtime.service_auth("bonus")
    leaks = HiringCompletions(settings.hiring_url, settings.hiring_lookup_timeout_s, to_hiring)
    link = links.exercise_updates_link(
        runtime.flags, settings.hiring_url, settings.push_timeout_s, to_hiring, runtime.registry
    )
    payment = links.payment_link(
        runtime.flags, settings.bonus_url, settings.call_timeout_s, to_bonus, runtime.registry
    )
    runtime.relay.route = router_of([link, payment])
    runtime.relay.deferred = left_to_requests([payment])
    runtime.on_close += [link.sink.close, payment.sink.close, leaks.close]
    app = create_app(
        runtime,
        title="Exercises service",
        description=DESCRIPTION,
        errors=ERRORS,
        max_request_bytes=settings.max_request_bytes,
        routers=(*ROUTERS, reviews_http.router),
    )
    versions = event_versions.produced_versions(runtime.flags, runtime.registry)
    app.state.services = Services(
        runtime=runtime,
        rules=rules,
        link=link,
        versions=versions,
        leaks=leaks,
        calls=CallsInRequest(runtime.engine, runtime.name, [payment]),
    )
    app.state.links = [link, payment]
    app.state.event_versions = versions
    app.state.origins = Origins(settings.secret)  # runtime/origins.py
    app.include_router(produced_versions.router, dependencies=[auth.OPERATOR])
    app.state.refresh_tokens = RefreshTokens(runtime.engine, settings.refresh_token_ttl_s)
    app.include_router(refresh_router)  # managers' refresh tokens (docs/security.md)
    issued_http.install(app, runtime, settings.money_retention_s)
    return app
