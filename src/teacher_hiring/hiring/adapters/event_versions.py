"""The producer's switch of the leak report: which version of ExerciseCompletedMoreThenTenTimes
hiring produces, as the operator flag `events.leak.version` (see runtime.event_versions).

A submission that reports a leak reads the flag once, and only then: submissions that leak
nothing never read it.
"""

from __future__ import annotations

from teacher_hiring.hiring.service_layer.events import (
    FAMILIES,
    PRODUCIBLE_VERSIONS,
    EventVersions,
)
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.runtime import event_versions
from teacher_hiring.runtime.event_versions import ProducedVersions
from teacher_hiring.runtime.flags import RuntimeFlags


def default_flags(leak_version: int) -> dict[str, str]:
    """The flag with the settings' value, for RuntimeFlags."""
    return event_versions.default_flags({"leak": leak_version})


def produced_versions(flags: RuntimeFlags, registry: SchemaRegistry) -> ProducedVersions:
    return ProducedVersions(flags, registry, FAMILIES, PRODUCIBLE_VERSIONS)


def current(versions: ProducedVersions) -> EventVersions:
    """What a submission produces now."""
    return EventVersions(leak=versions.version("leak"))
