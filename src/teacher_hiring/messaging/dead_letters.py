"""The dead-letter tools of one service: list, show, replay and purge what its consumers
dead-lettered, whichever the service.

Every call reads `<topic>.dlq` afresh (through the transport's group-less `read`), so the
instances of a service always agree and nothing is cached; a dead-letter topic is meant to stay
small. What happened to each dead letter since comes from the service's own database: the
replay marks (`dead_letter_replays`) and the inbox of the consumer group that dead-lettered it.

A replay publishes the original record's key and bytes to the original topic, so the event
keeps its id and every group's inbox drops it if that group already applied it. The marks are
written in the transaction that publishes, so two replays at once publish a dead letter once.

On a log where only a topic's producer may write it (the secured broker), a consumer cannot
publish there: it asks the producer (`at_producer`), which stages its own copy of each event
again in its outbox, and its relay sends it. The consumer's bytes are never trusted for that.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy import Engine

from teacher_hiring.foundation.sql import read_only
from teacher_hiring.messaging import dead_letter_replays as replays
from teacher_hiring.messaging import metrics
from teacher_hiring.messaging.consumer import ConsumerRunner
from teacher_hiring.messaging.dead_letter_rules import (
    BadRequest,
    DeadLetter,
    DeadLetterNotFound,
    Decision,
    Order,
    Outcome,
    PurgeRefused,
    ReplayRefused,
    ReplayUnavailable,
    Status,
    Tracked,
    UnknownGroup,
    UnknownTopic,
    decide,
    letter_id,
    ordered,
    parse_id,
    plan_purge,
    still_invalid,
)
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.replay_at_producer import AtProducer, ask_producers
from teacher_hiring.messaging.tables import inbox
from teacher_hiring.messaging.transport import (
    OutgoingMessage,
    Record,
    Transport,
    TransportError,
    dlq_topic,
)

READ_CHUNK = 500
INBOX_CHUNK = 500


class TopicCounts(TypedDict):
    """One topic's dead letters, counted before any filter."""

    dead_letters: int  # this service's
    pending: int  # of those, neither replayed nor applied
    other_services: int  # in the same dead-letter topic


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Tracked]
    total: int  # matching the filters, before paging
    by_topic: dict[str, TopicCounts]


@dataclass(frozen=True, slots=True)
class ReplayReport:
    dry_run: bool
    decisions: list[Decision]

    @property
    def published(self) -> int:
        return 0 if self.dry_run else sum(d.outcome is Outcome.REPLAYED for d in self.decisions)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    topic: str
    purged: int
    forced: bool
    starts: dict[int, int]  # per partition of <topic>.dlq, where it starts now


@dataclass(frozen=True, slots=True)
class _Scan:
    """What `<topic>.dlq` holds now: this service's dead letters, other services', and where
    each partition starts and ends."""

    mine: list[DeadLetter]
    foreign: list[DeadLetter]
    starts: dict[int, int]
    ends: dict[int, int]


@dataclass(frozen=True, slots=True)
class _Group:
    name: str
    topics: tuple[str, ...]
    versions: dict[str, int]  # event name -> version its handler reads


class DeadLetters:
    """The dead letters of `service`'s consumer groups, on the topics those groups read."""

    def __init__(
        self,
        service: str,
        transport: Transport,
        engine: Engine,
        registry: SchemaRegistry,
        runners: Sequence[ConsumerRunner],
        at_producer: AtProducer | None = None,
    ) -> None:
        self.service = service
        self.at_producer = at_producer
        self.transport = transport
        self.engine = engine
        self.registry = registry
        self._groups = {
            runner.group: _Group(
                runner.group,
                tuple(runner.topics()),
                {name: h.version for name, h in runner.subscription.handlers.items()},
            )
            for runner in runners
        }
        self._lock = threading.Lock()  # one gauge update at a time

    # -- what the service consumes -------------------------------------------------------------

    def topics(self) -> list[str]:
        return sorted({topic for group in self._groups.values() for topic in group.topics})

    def groups(self) -> list[str]:
        return sorted(self._groups)

    def check_topic(self, topic: str, field_name: str = "topic") -> str:
        if topic not in self.topics():
            known = ", ".join(self.topics()) or "none"
            raise UnknownTopic(
                f"{field_name}: {topic!r} is not a topic {self.service} consumes "
                f"(its topics: {known})",
                field=field_name,
            )
        return topic

    def check_group(self, group: str) -> str:
        if group not in self._groups:
            known = ", ".join(self.groups()) or "none"
            raise UnknownGroup(
                f"group: {group!r} is not a consumer group of {self.service} (its groups: {known})",
                field="group",
            )
        return group

    # -- list and show -------------------------------------------------------------------------

    def listing(
        self,
        *,
        topic: str | None = None,
        group: str | None = None,
        status: Status | None = None,
        order: Order = Order.NEWEST,
        limit: int = 50,
        skip: int = 0,
    ) -> Page:
        topics = [self.check_topic(topic)] if topic is not None else self.topics()
        if group is not None:
            self.check_group(group)
        everything: list[Tracked] = []
        by_topic: dict[str, TopicCounts] = {}
        for name in topics:
            scan = self._scan(name)
            tracked = self._track(scan.mine)
            by_topic[name] = TopicCounts(
                dead_letters=len(tracked),
                pending=self._set_gauge(name, tracked),
                other_services=len(scan.foreign),
            )
            everything += tracked
        matching = [
            t
            for t in everything
            if (group is None or t.letter.consumer == group)
            and (status is None or t.status is status)
        ]
        items = ordered(matching, order)[skip : skip + limit]
        return Page(items=items, total=len(matching), by_topic=by_topic)

    def get(self, topic: str, dead_letter_id: str) -> Tracked:
        self.check_topic(topic)
        partition, offset = parse_id(dead_letter_id)
        return self._track([self._one(topic, partition, offset)])[0]

    # -- replay --------------------------------------------------------------------------------

    def replay(
        self,
        *,
        topic: str | None = None,
        ids: Sequence[str] | None = None,
        group: str | None = None,
        dry_run: bool = True,
    ) -> ReplayReport:
        """What would happen to each dead letter chosen (dry run), or do it: publish those the
        dry run would apply, and mark them replayed in the same transaction."""
        if ids is not None and topic is None:
            raise BadRequest("topic: required when ids are given", field="topic")
        if group is not None:
            self.check_group(group)
        if topic is not None and ids is not None:
            self.check_topic(topic)
            places = [parse_id(i, "ids") for i in ids]
            chosen = self._track([self._one(topic, p, o) for p, o in dict.fromkeys(places)])
        else:
            topics = [self.check_topic(topic)] if topic is not None else self.topics()
            chosen = [t for name in topics for t in self._track(self._scan(name).mine)]
        if group is not None:
            chosen = [t for t in chosen if t.letter.consumer == group]
        decisions = [self._decide(t) for t in ordered(chosen, Order.OFFSET)]
        if dry_run:
            return ReplayReport(True, decisions)
        published, refused = self._publish([d for d in decisions if d.publishes])
        done = [
            Decision(d.tracked, Outcome.REPLAYED, d.detail)
            if d.tracked.letter.id in published.get(d.tracked.letter.topic, set())
            else d
            for d in decisions
        ]
        for name in {d.tracked.letter.topic for d in decisions}:
            self._set_gauge(name, self._track(self._scan(name).mine))
        if refused:
            count = sum(len(ids) for ids in published.values())
            raise ReplayRefused(
                f"ids: {len(refused)} dead letters could not be replayed: {'; '.join(refused)}. "
                f"{count} others were. Re-issue lost money with the reconciliation's resend "
                "(docs/runbooks/reconciliation.md)",
                field="ids",
                refused=refused,
                published=count,
            )
        return ReplayReport(False, done)

    def _decide(self, tracked: Tracked) -> Decision:
        group = self._groups[tracked.letter.consumer]
        problem = still_invalid(tracked.letter, self.registry, group.versions)
        return decide(tracked, problem, group.versions)

    def _publish(self, decisions: Sequence[Decision]) -> tuple[dict[str, set[str]], list[str]]:
        """Claim and publish in one transaction: if a send fails, no mark is left. A topic this
        service may not write is replayed by its producer; what the producer no longer holds
        is unmarked again and named in the second list (the caller refuses it, 409)."""
        if not decisions:
            return {}, []
        letters = {
            (d.tracked.letter.topic, d.tracked.letter.id): d.tracked.letter for d in decisions
        }
        claims = [
            replays.Claim(_place(letter), letter.consumer, letter.event_id)
            for letter in letters.values()
        ]
        refused: list[str] = []
        with self.engine.begin() as conn:
            won = replays.claim(conn, claims)
            chosen = [
                letters[(c.place.topic, letter_id(c.place.partition, c.place.offset))] for c in won
            ]
            mine = [letter for letter in chosen if self._writes(letter.topic)]
            self._send(mine)
            for letter, why in ask_producers(
                self.service,
                self.registry,
                self.at_producer,
                [letter for letter in chosen if not self._writes(letter.topic)],
            ):
                replays.unclaim(conn, [_place(letter)])
                chosen.remove(letter)
                refused.append(f"{letter.id} of {letter.topic}.dlq ({why})")
        published: dict[str, set[str]] = {}
        for letter in chosen:
            published.setdefault(letter.topic, set()).add(letter.id)
        return published, refused

    def _writes(self, topic: str) -> bool:
        """Whether this service may write `topic` itself."""
        principal = self.transport.writes_only_as()
        return principal is None or self.registry.topic_owner(topic) == principal

    def _send(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        producer = self.transport.producer()
        try:
            producer.send(
                [
                    OutgoingMessage(
                        letter.topic,
                        letter.key,
                        letter.value,
                        letter.replay_headers(dlq_topic(letter.topic)),
                    )
                    for letter in letters
                ]
            )
        except TransportError as exc:
            raise ReplayUnavailable(
                f"topic: the event log did not take the replay ({exc}); nothing was marked, "
                "try again",
                field="topic",
            ) from exc
        finally:
            producer.close()

    # -- purge ---------------------------------------------------------------------------------

    def purge(self, topic: str, *, up_to: str | None = None, force: bool = False) -> PurgeReport:
        """Drop `<topic>.dlq` through `up_to` (in its partition) or all of it; refused while a
        dead letter in that range is neither replayed nor applied, or is another service's,
        unless forced."""
        self.check_topic(topic)
        place = parse_id(up_to, "up_to") if up_to is not None else None
        dlq = dlq_topic(topic)
        scan = self._scan(topic)
        plan = plan_purge(self._track(scan.mine), scan.foreign, scan.ends, place)
        if plan.unhandled and not force:
            shown = "; ".join(plan.unhandled[:10])
            more = f" and {len(plan.unhandled) - 10} more" if len(plan.unhandled) > 10 else ""
            raise PurgeRefused(
                f"force: {len(plan.unhandled)} dead letters of {topic} would be dropped "
                f"unhandled: {shown}{more}. Replay them first, or purge with force",
                field="force",
                unhandled=plan.unhandled,
            )
        if plan.before:
            self.transport.delete_records(dlq, plan.before)
            with self.engine.begin() as conn:
                replays.forget(conn, topic, plan.before)
        after = self._scan(topic)
        self._set_gauge(topic, self._track(after.mine))
        return PurgeReport(topic, len(plan.purged), force, after.starts)

    # -- the gauge -----------------------------------------------------------------------------

    def refresh_gauge(self) -> dict[str, int]:
        """Count the pending dead letters of every topic, and forget the replay marks of those
        that retention removed from the log (the maintenance loop calls it)."""
        counts: dict[str, int] = {}
        for topic in self.topics():
            scan = self._scan(topic)
            counts[topic] = self._set_gauge(topic, self._track(scan.mine))
            if scan.starts and self._has_marks_below(topic, scan.starts):
                with self.engine.begin() as conn:
                    replays.forget(conn, topic, scan.starts)
        return counts

    def _has_marks_below(self, topic: str, starts: dict[int, int]) -> bool:
        """Read first, so that a pass with nothing to forget takes no write lock."""
        with read_only(self.engine) as conn:
            return replays.any_below(conn, topic, starts)

    def _set_gauge(self, topic: str, tracked: Sequence[Tracked]) -> int:
        pending = sum(t.status is Status.PENDING for t in tracked)
        with self._lock:
            metrics.DEAD_LETTERS_PENDING.labels(self.service, topic).set(pending)
        return pending

    # -- reading -------------------------------------------------------------------------------

    def _scan(self, topic: str) -> _Scan:
        """Every record of `<topic>.dlq`: those of this service's groups, and the others."""
        dlq = dlq_topic(topic)
        ends = self.transport.end_offsets(dlq)
        if not any(ends.values()):
            return _Scan([], [], dict(ends), dict(ends))
        starts = self.transport.start_offsets(dlq)
        records: list[Record] = []
        for partition, end in sorted(ends.items()):
            position = starts.get(partition, 0)
            while position < end:
                batch = self.transport.read(
                    dlq, partition, position, min(READ_CHUNK, end - position)
                )
                if not batch:
                    break
                records += batch
                position = batch[-1].offset + 1
        letters = [DeadLetter.from_record(topic, record, self.registry) for record in records]
        mine = [d for d in letters if d.consumer in self._groups]
        foreign = [d for d in letters if d.consumer not in self._groups]
        return _Scan(mine, foreign, starts, ends)

    def _one(self, topic: str, partition: int, offset: int) -> DeadLetter:
        dlq = dlq_topic(topic)
        where = f"{topic}.dlq has no dead letter {letter_id(partition, offset)}"
        partitions = self.transport.partitions_for(dlq)
        if partition >= partitions:
            raise BadRequest(
                f"dead_letter_id: partition {partition} does not exist in {dlq} "
                f"(it has {partitions})",
                field="dead_letter_id",
            )
        found = self.transport.read(dlq, partition, offset, 1)
        if not found or found[0].offset != offset:
            raise DeadLetterNotFound(f"dead_letter_id: {where} (purged, or never written)")
        letter = DeadLetter.from_record(topic, found[0], self.registry)
        if letter.consumer not in self._groups:
            raise DeadLetterNotFound(
                f"dead_letter_id: {letter.id} of {dlq} is {letter.consumer or 'no group'}'s, "
                f"not a group of {self.service}: ask {letter.service or 'its service'}",
                field="dead_letter_id",
            )
        return letter

    def _track(self, letters: Sequence[DeadLetter]) -> list[Tracked]:
        if not letters:
            return []
        with read_only(self.engine) as conn:
            marks = replays.replayed_at(conn, [_place(d) for d in letters])
            applied = _in_inbox(conn, [(d.consumer, d.event_id) for d in letters if d.event_id])
        return [
            Tracked(d, marks.get(_place(d)), (d.consumer, d.event_id) in applied) for d in letters
        ]


def _place(letter: DeadLetter) -> replays.Place:
    return replays.Place(letter.topic, letter.partition, letter.offset, letter.digest)


def _in_inbox(
    conn: sa.Connection, pairs: Iterable[tuple[str, str | None]]
) -> set[tuple[str, str | None]]:
    """Which (consumer, event id) pairs the inbox holds; by consumer, so that each query
    walks the inbox's primary key (consumer, event_id)."""
    by_consumer: dict[str, set[str]] = {}
    for consumer, event_id in pairs:
        if event_id:
            by_consumer.setdefault(consumer, set()).add(event_id)
    found: set[tuple[str, str | None]] = set()
    for consumer, event_ids in by_consumer.items():
        ids = sorted(event_ids)
        for start in range(0, len(ids), INBOX_CHUNK):
            query = sa.select(inbox.c.event_id).where(
                inbox.c.consumer == consumer,
                inbox.c.event_id.in_(ids[start : start + INBOX_CHUNK]),
            )
            found |= {(consumer, event_id) for event_id in conn.execute(query).scalars()}
    return found
