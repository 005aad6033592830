"""The producer's switch of US-160 and US-170: which version of the exercise events and of the
manager events this service produces, as operator flags (`events.<family>.version`, see
runtime.event_versions). Every save reads the flags once, so a save never mixes versions.
"""

from __future__ import annotations

from teacher_hiring.exercises.service_layer.events import (
    FAMILIES,
    PRODUCIBLE_VERSIONS,
    EventVersions,
)
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.runtime import event_versions
from teacher_hiring.runtime.event_versions import ProducedVersions
from teacher_hiring.runtime.flags import RuntimeFlags


def default_flags(exercise_version: int, manager_version: int) -> dict[str, str]:
    """The flags with the settings' values, for RuntimeFlags."""
    return event_versions.default_flags({"exercise": exercise_version, "manager": manager_version})


def produced_versions(flags: RuntimeFlags, registry: SchemaRegistry) -> ProducedVersions:
    return ProducedVersions(flags, registry, FAMILIES, PRODUCIBLE_VERSIONS)


def current(versions: ProducedVersions) -> EventVersions:
    """What a save produces now."""
    return EventVersions(exercise=versions.version("exercise"), manager=versions.version("manager"))
