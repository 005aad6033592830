"""Building the bonus service: settings, runtime, exercises client and HTTP app, never at import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from teacher_hiring.bonus.adapters.exercises_client import ExercisesClient
from teacher_hiring.bonus.adapters.producers_client import ProducersClient
from teacher_hiring.bonus.entrypoints import consumers, reconciliation_http
from teacher_hiring.bonus.entrypoints.deps import Reconciler
from teacher_hiring.bonus.entrypoints.errors import ERRORS
from teacher_hiring.bonus.entrypoints.http import ROUTERS
from teacher_hiring.bonus.service_layer.ports import ManagerDirectory
from teacher_hiring.bonus.settings import BonusSettings
from teacher_hiring.runtime import auth
from teacher_hiring.runtime.assemble import assemble
from teacher_hiring.runtime.http import create_app

NAME = "bonus"
MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"

DESCRIPTION = """Manager bonus accounting (seed letter Б).

One money account per manager. `BonusAdded` and `PaymentCommited` credit it, `FineAdded` debits
it; each becomes exactly one entry of an append-only ledger (unique business key per bonus,
fine and payment), whatever is redelivered or re-emitted. Balances are sums over the ledger.
Amounts are integer cents."""


def bootstrap(
    settings: BonusSettings | None = None,
    *,
    manager_directory: ManagerDirectory | None = None,
    producers: ProducersClient | None = None,
) -> FastAPI:
    settings = settings or BonusSettings()
    runtime = assemble(
        NAME,
        settings,
        migrations=MIGRATIONS,
        subscriptions=consumers.subscriptions(),
        upcaster=consumers.upcaster(),
        peers={"hiring": settings.hiring_url, "exercises": settings.exercises_url},
    )
    if manager_directory is None:
        client = ExercisesClient(
            settings.exercises_url,
            timeout_s=settings.exercises_timeout_s,
            ttl_s=settings.manager_cache_ttl_s,
            failure_ttl_s=settings.manager_failure_ttl_s,
            max_entries=settings.manager_cache_size,
            auth=runtime.service_auth("exercises"),
        )
        runtime.on_close.append(client.close)
        manager_directory = client
    app = create_app(
        runtime,
        title="Bonus service",
        description=DESCRIPTION,
        errors=ERRORS,
        max_request_bytes=settings.max_request_bytes,
        routers=ROUTERS,
    )
    app.state.settings = settings
    app.state.manager_directory = manager_directory
    if producers is None:
        producers = ProducersClient(
            {"hiring": settings.hiring_url, "exercises": settings.exercises_url},
            timeout_s=settings.reconciliation_timeout_s,
            auth=runtime.service_auth("hiring", "exercises"),
        )
        runtime.on_close.append(producers.close)
    app.state.reconciler = Reconciler(producers, settings.reconciliation_settle_s)
    app.include_router(reconciliation_http.router, dependencies=[auth.OPERATOR])
    return app
