"""What a dead letter is and what may be done with it: pure rules, no log and no database.

A dead letter is a record of `<topic>.dlq`, written by the consumer runner with the original
record's key, bytes and headers plus its own (`dlq_reason`, `dlq_error`, `dlq_consumer`, ...).
It is named `<partition>:<offset>` within its dead-letter topic.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from teacher_hiring.foundation.redaction import personal_values_in_json, scrub_text
from teacher_hiring.messaging.envelope import Envelope, MalformedEvent
from teacher_hiring.messaging.registry import SchemaRegistry, SchemaViolation
from teacher_hiring.messaging.transport import DLQ_HEADERS, Record
from teacher_hiring.messaging.wire import RecordCodec

# Headers the consumer runner adds when it dead-letters a record; a replay strips them.
RUNNER_HEADERS = frozenset(DLQ_HEADERS)
REPLAYED_FROM = "replayed_from"
_ID = re.compile(r"([0-9]{1,9}):([0-9]{1,18})")  # within a partition number and an offset


class DeadLetterError(Exception):
    """Base of the dead-letter tools' refusals; the message starts with the field at fault."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra: dict[str, Any] = extra


class UnknownTopic(DeadLetterError, LookupError):
    """Not a topic this service consumes."""


class UnknownGroup(DeadLetterError, ValueError):
    """Not a consumer group of this service."""


class BadRequest(DeadLetterError, ValueError):
    """A malformed dead-letter id, an offset past the end, a missing field."""


class DeadLetterNotFound(DeadLetterError, LookupError):
    """No such dead letter (purged, never written, or another service's)."""


class PurgeRefused(DeadLetterError):
    """The purge would drop dead letters no one has replayed, and it was not forced."""


class ReplayRefused(DeadLetterError):
    """The topic's producer does not hold some of the events any more (or never produced them),
    so it cannot send them again; the others were replayed."""


class ReplayUnavailable(DeadLetterError):
    """The replay could not be written now: the event log refused the write, or the topic's
    producer, which writes it on a secured broker, did not answer."""


class ReplayFailed(DeadLetterError):
    """The topic's producer answered the replay with an error, or with something unreadable."""


class Status(StrEnum):
    PENDING = "pending"  # neither replayed nor applied: needs someone
    REPLAYED = "replayed"  # published again by a replay
    APPLIED = "applied"  # its consumer group's inbox holds the event: the effect is in


class Order(StrEnum):
    NEWEST = "newest"  # last dead-lettered first
    OFFSET = "offset"  # by topic, partition and offset


def letter_id(partition: int, offset: int) -> str:
    return f"{partition}:{offset}"


def parse_id(text: str, field_name: str = "dead_letter_id") -> tuple[int, int]:
    """`<partition>:<offset>`, both whole numbers from 0, as the listing shows them."""
    found = _ID.fullmatch(text.strip())
    if found is None:
        raise BadRequest(
            f"{field_name}: {text[:60]!r} is not <partition>:<offset> (for example 0:12)",
            field=field_name,
        )
    return int(found[1]), int(found[2])


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and re.fullmatch(r"-?[0-9]{1,18}", value) else None


def _float(value: str | None) -> float | None:
    try:
        number = None if value is None else float(value)
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record of `<topic>.dlq`, with what the runner said about it."""

    topic: str  # the original topic
    partition: int
    offset: int
    key: str
    value: bytes = field(repr=False)
    headers: Mapping[str, str]
    timestamp_ms: int
    envelope: Envelope | None  # None when the bytes are no envelope (see parse_error)
    parse_error: str | None

    @classmethod
    def from_record(cls, topic: str, record: Record, registry: SchemaRegistry) -> DeadLetter:
        try:
            envelope: Envelope | None = RecordCodec(registry).decode(record.value, record.headers)
            problem = None
        except (MalformedEvent, SchemaViolation) as exc:
            # Schema errors quote the values they refuse: not the personal ones.
            envelope, problem = None, scrub_text(str(exc), personal_values_in_json(record.value))
        return cls(
            topic=topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=dict(record.headers),
            timestamp_ms=record.timestamp_ms,
            envelope=envelope,
            parse_error=problem,
        )

    @property
    def id(self) -> str:
        return letter_id(self.partition, self.offset)

    @property
    def consumer(self) -> str:
        return self.headers.get("dlq_consumer", "")

    @property
    def service(self) -> str:
        return self.headers.get("dlq_service", "")

    @property
    def reason(self) -> str:
        return self.headers.get("dlq_reason", "unknown")

    @property
    def error(self) -> str:
        # Scrubbed when written (consumer.py); again here for letters written before that.
        return scrub_text(self.headers.get("dlq_error", ""))

    @property
    def attempts(self) -> int | None:
        return _int(self.headers.get("dlq_attempts"))

    @property
    def dead_lettered_at(self) -> float:
        """When the runner dead-lettered it (epoch seconds); the record's time if unsaid."""
        at = _float(self.headers.get("dead_lettered_at"))
        return at if at is not None else self.timestamp_ms / 1000

    @property
    def original_partition(self) -> int | None:
        return _int(self.headers.get("original_partition"))

    @property
    def original_offset(self) -> int | None:
        return _int(self.headers.get("original_offset"))

    @property
    def event_id(self) -> str | None:
        return self.envelope.event_id if self.envelope else None

    @property
    def event_name(self) -> str | None:
        return self.envelope.event_name if self.envelope else None

    @property
    def digest(self) -> str:
        """Tells this record from another one a re-created topic put at the same place."""
        stamp = self.headers.get("dead_lettered_at", str(self.timestamp_ms)).encode()
        return hashlib.sha256(stamp + b"\0" + self.value).hexdigest()

    def replay_headers(self, dlq: str) -> dict[str, str]:
        """The original record's headers again, plus where the replay came from."""
        kept = {k: v for k, v in self.headers.items() if k not in RUNNER_HEADERS}
        kept[REPLAYED_FROM] = f"{dlq}:{self.id}"
        return kept


@dataclass(frozen=True, slots=True)
class Tracked:
    """A dead letter and what has happened to it since."""

    letter: DeadLetter
    replayed_at: float | None = None
    applied: bool = False

    @property
    def status(self) -> Status:
        if self.applied:
            return Status.APPLIED
        if self.replayed_at is not None:
            return Status.REPLAYED
        return Status.PENDING


class Outcome(StrEnum):
    """What a replay does with one dead letter; only WOULD_APPLY is published."""

    WOULD_APPLY = "would apply"
    REPLAYED = "replayed"  # a real run published it
    ALREADY_REPLAYED = "already replayed"
    ALREADY_APPLIED = "already applied"
    STILL_INVALID = "still invalid"
    NOT_HANDLED = "not handled"


@dataclass(frozen=True, slots=True)
class Decision:
    tracked: Tracked
    outcome: Outcome
    detail: str

    @property
    def publishes(self) -> bool:
        return self.outcome is Outcome.WOULD_APPLY


def still_invalid(
    letter: DeadLetter, registry: SchemaRegistry, handler_versions: Mapping[str, int]
) -> str | None:
    """Why the group would dead-letter the record again as it is, or None: the consumer
    runner's own checks (an envelope, valid against the registry, a version its handler
    reads). `handler_versions` maps the group's event names to the version each reads."""
    if letter.envelope is None:
        return letter.parse_error or "not an envelope"
    try:
        registry.validate(letter.envelope.as_dict())
    except SchemaViolation as exc:
        return str(exc)
    version = handler_versions.get(letter.envelope.event_name)
    if version is not None and letter.envelope.event_version > version:
        return (
            f"{letter.envelope.event_name} v{letter.envelope.event_version} is newer than "
            f"{letter.consumer} reads (v{version})"
        )
    return None


def decide(tracked: Tracked, problem: str | None, handled: Iterable[str]) -> Decision:
    """The dry run's verdict on one dead letter; a real run publishes only WOULD_APPLY."""
    letter = tracked.letter
    if tracked.replayed_at is not None:
        return Decision(tracked, Outcome.ALREADY_REPLAYED, "a replay published it before")
    if tracked.applied:
        return Decision(
            tracked, Outcome.ALREADY_APPLIED, f"{letter.consumer}'s inbox holds {letter.event_id}"
        )
    if problem is not None:
        return Decision(tracked, Outcome.STILL_INVALID, problem)
    if letter.event_name not in set(handled):
        return Decision(
            tracked,
            Outcome.NOT_HANDLED,
            f"{letter.consumer} does not handle {letter.event_name}: it would ignore it",
        )
    return Decision(
        tracked,
        Outcome.WOULD_APPLY,
        f"{letter.event_name} {letter.event_id} to {letter.topic} (key {letter.key!r}), "
        f"not yet applied by {letter.consumer}",
    )


def ordered(items: Sequence[Tracked], order: Order) -> list[Tracked]:
    if order is Order.OFFSET:
        return sorted(items, key=lambda t: (t.letter.topic, t.letter.partition, t.letter.offset))
    return sorted(
        items,
        key=lambda t: (t.letter.dead_lettered_at, t.letter.topic, t.letter.offset),
        reverse=True,
    )


@dataclass(frozen=True, slots=True)
class PurgePlan:
    before: dict[int, int]  # per partition of <topic>.dlq, the new start offset
    purged: list[DeadLetter]
    unhandled: list[str]  # why the purge must be forced, one line per dead letter


def plan_purge(
    letters: Sequence[Tracked],
    foreign: Sequence[DeadLetter],
    ends: Mapping[int, int],
    up_to: tuple[int, int] | None,
) -> PurgePlan:
    """Purging drops a prefix of each partition, as Kafka does: everything through `up_to`
    in its partition, or everything present in every partition. `foreign` are the dead
    letters of other services' groups in the same topic, which this service cannot vouch for.
    """
    if up_to is None:
        before = {part: end for part, end in ends.items() if end > 0}
    else:
        partition, offset = up_to
        if partition not in ends:
            known = ", ".join(str(p) for p in sorted(ends)) or "none"
            raise BadRequest(
                f"up_to: partition {partition} does not exist (partitions: {known})", field="up_to"
            )
        if offset >= ends[partition]:
            raise BadRequest(
                f"up_to: offset {offset} is past the last dead letter of partition {partition} "
                f"(its next offset is {ends[partition]})",
                field="up_to",
            )
        before = {partition: offset + 1}

    def inside(letter: DeadLetter) -> bool:
        return letter.partition in before and letter.offset < before[letter.partition]

    purged = [t.letter for t in letters if inside(t.letter)] + [f for f in foreign if inside(f)]
    unhandled = [
        f"{t.letter.id} ({t.letter.consumer}, {t.letter.reason}): neither replayed nor applied"
        for t in letters
        if inside(t.letter) and t.status is Status.PENDING
    ]
    unhandled += [
        f"{f.id} ({f.consumer or 'no consumer'}): another service's dead letter"
        for f in foreign
        if inside(f)
    ]
    return PurgePlan(before, sorted(purged, key=lambda d: (d.partition, d.offset)), unhandled)
