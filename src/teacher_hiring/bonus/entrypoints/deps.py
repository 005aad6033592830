"""What the routes need, built once by bootstrap and handed out per request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from teacher_hiring.bonus.adapters.producers_client import ProducersClient
from teacher_hiring.bonus.adapters.views import BonusViews
from teacher_hiring.bonus.service_layer.ports import ManagerDirectory, Views
from teacher_hiring.foundation.sql import read_only
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.runtime.service import ServiceRuntime


def unit_of_work(request: Request) -> Iterator[UnitOfWork[Views]]:
    """Every route of bonus only reads: a snapshot connection that never waits for the ledger."""
    runtime = cast(ServiceRuntime, request.app.state.runtime)
    with read_only(runtime.engine) as conn:
        yield UnitOfWork.joining(conn, BonusViews)


def manager_directory(request: Request) -> ManagerDirectory:
    return cast(ManagerDirectory, request.app.state.manager_directory)


@dataclass(frozen=True)
class Reconciler:
    """What reconciliation needs: the producers' clients, and how recent money may still be
    on its way (the default window ends that long ago)."""

    producers: ProducersClient
    settle_s: float


def reconciler(request: Request) -> Reconciler:
    return cast(Reconciler, request.app.state.reconciler)


UnitOfWorkDep = Annotated[UnitOfWork[Views], Depends(unit_of_work)]
ManagerDirectoryDep = Annotated[ManagerDirectory, Depends(manager_directory)]
ReconcilerDep = Annotated[Reconciler, Depends(reconciler)]
