"""What the routes need, built once by bootstrap and handed out per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, cast

from fastapi import Depends, Request

from teacher_hiring.bonus.adapters.exercises_client import ManagerDirectory
from teacher_hiring.bonus.service_layer.unit_of_work import UnitOfWork
from teacher_hiring.runtime.db import read_only
from teacher_hiring.runtime.service import ServiceRuntime


def unit_of_work(request: Request) -> Iterator[UnitOfWork]:
    """Every route of bonus only reads: a snapshot connection that never waits for the ledger."""
    runtime = cast(ServiceRuntime, request.app.state.runtime)
    with read_only(runtime.engine) as conn:
        yield UnitOfWork.joining(conn)


def manager_directory(request: Request) -> ManagerDirectory:
    return cast(ManagerDirectory, request.app.state.manager_directory)


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]
ManagerDirectoryDep = Annotated[ManagerDirectory, Depends(manager_directory)]
