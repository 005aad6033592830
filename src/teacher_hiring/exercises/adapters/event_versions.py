"""The producer's switch of US-160 and US-170: which version of the exercise events and of the
manager events this service produces, as operator flags (`events.<family>.version`).

The flags live in the service's database (runtime.flags), so every instance produces the same
version within half a second of a switch and a restart keeps it; the settings only give the
version before an operator sets one. Every save reads the flag once, so a switch never needs a
restart and a save never mixes versions.
"""

from __future__ import annotations

from typing import Any

from teacher_hiring.exercises.domain.errors import InvalidValue, UnknownEventFamily
from teacher_hiring.exercises.service_layer.events import (
    FAMILIES,
    PRODUCIBLE_VERSIONS,
    EventVersions,
)
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.runtime.flags import RuntimeFlags


def flag_name(family: str) -> str:
    return f"events.{family}.version"


def default_flags(exercise_version: int, manager_version: int) -> dict[str, str]:
    """The flags with the settings' values, for RuntimeFlags."""
    return {
        flag_name("exercise"): str(exercise_version),
        flag_name("manager"): str(manager_version),
    }


class ProducedVersions:
    def __init__(self, flags: RuntimeFlags, registry: SchemaRegistry) -> None:
        self.flags = flags
        self.registry = registry

    def current(self) -> EventVersions:
        """What a save produces now."""
        return EventVersions(
            exercise=int(self.flags.get(flag_name("exercise"))),
            manager=int(self.flags.get(flag_name("manager"))),
        )

    def choices(self, family: str) -> list[int]:
        """Versions every event of the family has in the registry and this code can build."""
        events = self._events(family)
        return [
            version
            for version in PRODUCIBLE_VERSIONS
            if all(version in self.registry.spec(name).versions for name in events)
        ]

    def state(self, family: str) -> dict[str, Any]:
        flag = self.flags.flag(flag_name(family))
        return {
            "family": family,
            "version": int(flag.value),
            "events": list(self._events(family)),
            "versions": self.choices(family),
            "switched_at": flag.updated_at,
        }

    def states(self) -> list[dict[str, Any]]:
        return [self.state(family) for family in FAMILIES]

    def switch(self, family: str, version: int) -> dict[str, Any]:
        """Produce `version` of the family from the next save on, on every instance."""
        choices = self.choices(family)
        if version not in choices:
            known = ", ".join(str(v) for v in choices)
            raise InvalidValue(
                "version", f"{family} events can be produced at {known}, not {version}"
            )
        self.flags.set(flag_name(family), str(version))
        return self.state(family)

    def _events(self, family: str) -> tuple[str, ...]:
        if family not in FAMILIES:
            raise UnknownEventFamily(family, tuple(FAMILIES))
        return FAMILIES[family]
