"""Reading old event versions: small functions from one version's payload to the next.

A consumer sees every event at the newest version it knows, so handlers never branch on
versions. Each step is a pure function, tested on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from teacher_hiring.messaging.envelope import Envelope

Step = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns a payload of one version into a payload of the next."""

Steps = Mapping[tuple[str, int], Step]
"""(event name, from version) -> the step to the next version."""


class Upcaster:
    """The steps a consumer knows; the events' own steps live beside them (teacher_hiring.events),
    and each service composes those its consumers need."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Step] = {}

    @classmethod
    def of(cls, *tables: Steps) -> Upcaster:
        """An upcaster knowing every step of `tables` (a later table wins a clash)."""
        upcaster = cls()
        for table in tables:
            upcaster.add_all(table)
        return upcaster

    def register(self, event_name: str, from_version: int) -> Callable[[Step], Step]:
        """Decorator: `fn` turns a `from_version` payload into a `from_version + 1` payload."""

        def decorate(fn: Step) -> Step:
            self._steps[(event_name, from_version)] = fn
            return fn

        return decorate

    def add(self, event_name: str, from_version: int, fn: Step) -> None:
        self._steps[(event_name, from_version)] = fn

    def add_all(self, steps: Steps) -> None:
        for (event_name, from_version), fn in steps.items():
            self.add(event_name, from_version, fn)

    def missing_steps(self, event_name: str, from_version: int, to_version: int) -> list[str]:
        """The steps this upcaster lacks to raise `from_version` to `to_version` (none: it can)."""
        return [
            f"{event_name} v{version} -> v{version + 1}"
            for version in range(from_version, to_version)
            if (event_name, version) not in self._steps
        ]

    def upcast(self, envelope: Envelope, target_version: int) -> Envelope:
        """Raise the envelope's payload to target_version (a no-op when already there)."""
        version, payload = envelope.event_version, envelope.payload
        while version < target_version:
            step = self._steps.get((envelope.event_name, version))
            if step is None:
                raise LookupError(
                    f"no upcaster for {envelope.event_name} v{version} -> v{version + 1}"
                )
            payload = step(dict(payload))
            version += 1
        if version == envelope.event_version:
            return envelope
        return envelope.with_payload(version, payload)
