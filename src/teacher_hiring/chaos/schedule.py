"""When each fault of a chaos run happens and against what: from the seed alone.

Pure: no process, log or database. Each kind of fault has its own random stream derived from
the seed, so changing how often one kind happens leaves the others' times and targets as they
were. The choices a fault makes when it runs (which records to deliver again) come from its
own `seed`, drawn here, so they too repeat for a given seed and log.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    KILL = "kill"  # SIGKILL a process (or the broker), then start it again
    DUPLICATE = "duplicate"  # records already in a topic, produced again: twice, and late
    POISON = "poison"  # a record no consumer can read
    OUTAGE = "db-outage"  # a service's database refuses work for a moment


class Poison(StrEnum):
    INVALID_JSON = "invalid-json"
    UNKNOWN_EVENT = "unknown-event"
    UNKNOWN_VERSION = "unknown-version"
    SCHEMA_VIOLATION = "schema-violation"


BROKER = "kafka"
"""The kill target that names the Kafka broker rather than a service process."""


@dataclass(frozen=True, slots=True)
class Fault:
    at_s: float  # seconds after the users started
    kind: Kind
    target: str  # a process label or BROKER; a topic; a service (its database)
    variant: str = ""  # the Poison kind
    duration_s: float = 0.0  # how long a database stays away
    seed: int = 0  # for the choices the fault makes when it runs

    def describe(self) -> str:
        detail = {
            Kind.KILL: f"SIGKILL {self.target}",
            Kind.DUPLICATE: f"deliver again records of {self.target}",
            Kind.POISON: f"{self.variant} into {self.target}",
            Kind.OUTAGE: f"{self.target}'s database away for {self.duration_s * 1000:.0f} ms",
        }[self.kind]
        return f"{self.at_s:7.2f}s {detail}"


@dataclass(frozen=True, slots=True)
class Plan:
    """What a run may break and how often (mean seconds between faults of a kind; 0: never).

    The broker is killed on a schedule of its own: it takes far longer than a service to come
    back (tens of seconds), and while it is away no record can be delivered again or poisoned.
    """

    seconds: float
    kill_targets: Sequence[str]  # process labels
    topics: Sequence[str]
    databases: Sequence[str]
    kill_interval_s: float = 5.0
    broker_kill_interval_s: float = 0.0  # 0: the deployment has no broker to kill
    duplicate_interval_s: float = 2.0
    poison_interval_s: float = 3.0
    outage_interval_s: float = 6.0
    outage_min_s: float = 0.2
    outage_max_s: float = 0.6

    def __post_init__(self) -> None:
        if self.seconds <= 0:
            raise ValueError(f"seconds: must be positive, not {self.seconds}")
        for name in ("kill", "broker_kill", "duplicate", "poison", "outage"):
            if getattr(self, f"{name}_interval_s") < 0:
                raise ValueError(f"{name}_interval: must be 0 (never) or positive")
        if not 0 < self.outage_min_s <= self.outage_max_s:
            raise ValueError("outage: 0 < shortest <= longest")


def schedule(plan: Plan, seed: int) -> list[Fault]:
    """Every fault of the run, in time order. Faults of a kind come about once per interval,
    each gap drawn between half and one and a half intervals; the first after a gap too, so
    the users get going before anything breaks."""
    faults: list[Fault] = []
    streams = (
        ("kill", Kind.KILL, plan.kill_interval_s, plan.kill_targets),
        ("kill-broker", Kind.KILL, plan.broker_kill_interval_s, [BROKER]),
        ("duplicate", Kind.DUPLICATE, plan.duplicate_interval_s, plan.topics),
        ("poison", Kind.POISON, plan.poison_interval_s, plan.topics),
        ("db-outage", Kind.OUTAGE, plan.outage_interval_s, plan.databases),
    )
    for stream, kind, interval, targets in streams:
        if interval == 0 or not targets:
            continue
        rng = random.Random(f"{seed}:{stream}")
        at = interval * rng.uniform(0.5, 1.5)
        while at < plan.seconds:
            faults.append(_fault(kind, round(at, 3), sorted(targets), plan, rng))
            at += interval * rng.uniform(0.5, 1.5)
    return sorted(faults, key=lambda f: (f.at_s, f.kind.value, f.target))


def _fault(kind: Kind, at: float, targets: list[str], plan: Plan, rng: random.Random) -> Fault:
    target = rng.choice(targets)
    variant = rng.choice(list(Poison)).value if kind is Kind.POISON else ""
    duration = (
        round(rng.uniform(plan.outage_min_s, plan.outage_max_s), 3) if kind is Kind.OUTAGE else 0.0
    )
    return Fault(at, kind, target, variant, duration, rng.randrange(2**32))
