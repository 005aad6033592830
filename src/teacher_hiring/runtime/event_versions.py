"""The producer's switch of an event's version: an operator flag `events.<family>.version`.

exercises switches its exercise and manager events (US-160, US-170), hiring its leak report.
The flags live in the service's database (runtime.flags), so every instance produces the same
version within half a second of a switch and a restart keeps it; the settings only give the
version before an operator sets one. A unit of work reads a flag once, so one command never
mixes versions. The routes (`/operator/event-versions`) are the same on every service that
produces a switchable family: each serves the families it produces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, TypedDict

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.runtime.bad_requests import DB_INT_MAX, InvalidRequest
from teacher_hiring.runtime.flags import RuntimeFlags


class UnknownEventFamily(LookupError):
    """A family whose produced version nobody can switch on this service (404)."""

    def __init__(self, family: str, known: Sequence[str]) -> None:
        super().__init__(f"family: {family!r} is not an event family (known: {', '.join(known)})")
        self.extra = {"field": "family"}


class VersionRefused(ValueError):
    """A version the family cannot be produced at: not in the registry, or not built (422)."""

    def __init__(self, family: str, version: int, choices: Sequence[int]) -> None:
        known = ", ".join(str(v) for v in choices)
        super().__init__(f"version: {family} events can be produced at {known}, not {version}")
        self.extra = {"field": "version"}


ERRORS: dict[type[Exception], int] = {UnknownEventFamily: 404, VersionRefused: 422}


def flag_name(family: str) -> str:
    return f"events.{family}.version"


def default_flags(versions: Mapping[str, int]) -> dict[str, str]:
    """The flags of the families with the settings' versions, for RuntimeFlags."""
    return {flag_name(family): str(version) for family, version in versions.items()}


class FamilyState(TypedDict):
    """A family's produced version now, and what it can be switched to (EventFamilyVersion)."""

    family: str
    version: int
    events: list[str]
    versions: list[int]
    switched_at: float | None


class ProducedVersions:
    """Which version of each of `families` (name -> its events) a service produces now."""

    def __init__(
        self,
        flags: RuntimeFlags,
        registry: SchemaRegistry,
        families: Mapping[str, tuple[str, ...]],
        producible: Sequence[int],
    ) -> None:
        self.flags = flags
        self.registry = registry
        self.families = dict(families)
        self.producible = tuple(producible)

    def version(self, family: str) -> int:
        """What the next command produces."""
        self._events(family)
        return int(self.flags.get(flag_name(family)))

    def choices(self, family: str) -> list[int]:
        """Versions every event of the family has in the registry and this code can build."""
        events = self._events(family)
        return [
            version
            for version in self.producible
            if all(version in self.registry.spec(name).versions for name in events)
        ]

    def state(self, family: str) -> FamilyState:
        flag = self.flags.flag(flag_name(family))
        return FamilyState(
            family=family,
            version=int(flag.value),
            events=list(self._events(family)),
            versions=self.choices(family),
            switched_at=flag.updated_at,
        )

    def states(self) -> list[FamilyState]:
        return [self.state(family) for family in self.families]

    def switch(self, family: str, version: int) -> FamilyState:
        """Produce `version` of the family from the next command on, on every instance."""
        choices = self.choices(family)
        if version not in choices:
            raise VersionRefused(family, version, choices)
        self.flags.set(flag_name(family), str(version))
        return self.state(family)

    def _events(self, family: str) -> tuple[str, ...]:
        if family not in self.families:
            raise UnknownEventFamily(family, tuple(self.families))
        return self.families[family]


# -- the routes ----------------------------------------------------------------------------------


class Refusal(BaseModel):
    detail: str = Field(description="What was wrong, starting with the field it concerns")
    error: str = Field(description="UnknownEventFamily or VersionRefused")
    field: str = Field(description="family or version")


class EventFamilyVersion(BaseModel):
    family: str = Field(
        description="The family's name: exercise (ExerciseCreated, ExerciseUpdated) and manager "
        "(ManagerCreated, ManagerUpdated) on exercises, leak "
        "(ExerciseCompletedMoreThenTenTimes) on hiring"
    )
    version: int = Field(description="The version every command produces now")
    events: list[str]
    versions: list[int] = Field(description="The versions it can be switched to")
    switched_at: float | None = Field(
        description="When an operator last set it (epoch seconds); null: the settings' value"
    )


class VersionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(
        ge=0, le=DB_INT_MAX, description="The version to produce from the next command on"
    )


def _produced(request: Request) -> ProducedVersions:
    versions: ProducedVersions = request.app.state.event_versions
    return versions


VersionsDep = Annotated[ProducedVersions, Depends(_produced)]
Family = Annotated[str, Path(min_length=1, max_length=50, description="The family's name")]

router = APIRouter(prefix="/operator/event-versions", tags=["operator"])


@router.get("", response_model=list[EventFamilyVersion])
def list_event_versions(versions: VersionsDep) -> list[FamilyState]:
    """Which version of each family this service produces now."""
    return versions.states()


@router.put(
    "/{family}",
    response_model=EventFamilyVersion,
    responses={
        404: {"model": Refusal, "description": "Not an event family of this service"},
        422: {
            "model": Refusal | InvalidRequest,
            "description": "A version the family cannot be produced at",
        },
    },
)
def switch_event_version(
    family: Family, change: VersionChange, versions: VersionsDep
) -> FamilyState:
    """Produce another version of a family from the next command on, without a restart.

    Every instance follows within half a second. Events already produced stay as they are:
    consumers read every version still in the registry, so switching back is safe too.
    """
    return versions.switch(family, change.version)
