"""The operator's switch of the produced event versions (US-160, US-170), at run time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from teacher_hiring.exercises.entrypoints import models
from teacher_hiring.exercises.entrypoints.deps import ServicesDep
from teacher_hiring.runtime.bad_requests import InvalidRequest

Family = Annotated[str, Path(min_length=1, max_length=50, description="exercise or manager")]

router = APIRouter(prefix="/operator/event-versions", tags=["operator"])


@router.get("", response_model=list[models.EventFamilyVersion])
def list_event_versions(services: ServicesDep) -> list[dict[str, Any]]:
    """Which version of the exercise events and of the manager events a save produces now."""
    return services.versions.states()


@router.put(
    "/{family}",
    response_model=models.EventFamilyVersion,
    responses={
        404: {"model": models.Error, "description": "Not an event family"},
        422: {
            "model": models.Error | InvalidRequest,
            "description": "A version the family cannot be produced at",
        },
    },
)
def switch_event_version(
    family: Family, change: models.VersionChange, services: ServicesDep
) -> dict[str, Any]:
    """Produce another version of a family from the next save on, without a restart.

    Every instance follows within half a second. Events already produced stay as they are:
    consumers read every version still in the registry, so switching back is safe too.
    """
    return services.versions.switch(family, change.version)
