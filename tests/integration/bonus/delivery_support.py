"""Money and rating events, and the ways the transport may deliver them, for property tests.

What the transport allows (messaging/transport.py, and the topics and keys of
schemas/events.yaml), and so what the strategies below generate:

- Bonuses and fines travel on `money`, payments on `payments`, keyed by manager_id, ratings on
  `task-ratings` keyed by exercise_id; a key's partition is crc32(key) modulo the partition
  count, so the events of one key share a partition and several keys may share one.
- A producer appends the events of one key in the order it committed them (the relay reads its
  outbox in id order). Two producers are not ordered against each other, even for one key:
  hiring's bonuses and fines and exercises' payments of one manager interleave freely.
- A relay that dies between sending rows and marking them sent sends them again: a copy of an
  event (same event id, new offset) may appear anywhere after the original in its partition.
- A consumer reads each partition in offset order, the partitions interleaved in any way, and
  after a crash or a rebalance reads again, from the last committed offset, records whose
  effects it had already committed to its database.

Nothing else happens: an event never arrives before an earlier event of its key and producer,
except as such a copy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from hypothesis import strategies as st

from integration.bonus.bonus_support import AT, PRODUCERS, Bonus
from teacher_hiring.bonus.entrypoints import consumers
from teacher_hiring.messaging.consumer import ConsumerRunner
from teacher_hiring.messaging.embedded_log import EmbeddedLog
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.transport import (
    Consumer,
    OutgoingMessage,
    Producer,
    Record,
    TopicPartition,
    Transport,
    dlq_topic,
)

MONEY_EVENTS = ("BonusAdded", "FineAdded", "PaymentCommited")
SIGN = {"BonusAdded": 1, "FineAdded": -1, "PaymentCommited": 1}
KIND = {"BonusAdded": "bonus", "FineAdded": "fine", "PaymentCommited": "payment"}
MANAGERS = 3
EXERCISES = 3


# -- what the producers committed ---------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    name: str
    manager: int
    amount_cents: int


@dataclass(frozen=True)
class RatingChange:
    exercise: int
    rating: int
    rating_version: int


Fact = Money | RatingChange
TOPICS = {spec.name: spec.topic for spec in SchemaRegistry.load().events()}


@dataclass(frozen=True)
class History:
    """Every event the producers committed, each once, in commit order."""

    facts: tuple[Fact, ...]

    def stream_of(self, index: int) -> tuple[str, str, int]:
        """(producer, topic, key number): the events whose relative order the transport keeps."""
        fact = self.facts[index]
        if isinstance(fact, Money):
            return PRODUCERS[fact.name], TOPICS[fact.name], fact.manager
        return "hiring", "task-ratings", fact.exercise


money = st.builds(
    Money,
    name=st.sampled_from(MONEY_EVENTS),
    manager=st.integers(0, MANAGERS - 1),
    amount_cents=st.integers(1, 5_000),
)


@st.composite
def histories(draw: st.DrawFn, max_money: int = 10, max_ratings: int = 6) -> History:
    """Money events and, per exercise, ratings of growing rating_version, merged in one order."""
    facts: list[Fact] = draw(st.lists(money, max_size=max_money))
    ratings: list[Fact] = []
    for exercise in range(EXERCISES):
        steps = draw(st.lists(st.integers(1, 3), max_size=max_ratings // EXERCISES))
        version = 0
        for step in steps:
            version += step
            ratings.append(RatingChange(exercise, draw(st.integers(0, 100)), version))
    for rating in ratings:  # each exercise's ratings stay in order; where they fall is free
        facts.insert(draw(st.integers(0, len(facts))), rating)
    if not facts:
        facts.append(draw(money))
    return History(tuple(facts))


# -- the events on the wire ---------------------------------------------------------------------


@dataclass
class Events:
    """A history made into envelopes whose ids all start with a namespace of the example, so
    that every example runs in the same database without meeting another's rows."""

    history: History
    namespace: str
    envelopes: list[Envelope] = field(init=False)
    fact_of_event: dict[str, int] = field(init=False)
    fact_of_key: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.envelopes, self.fact_of_event, self.fact_of_key = [], {}, {}
        for index, fact in enumerate(self.history.facts):
            name, payload, key = self._event(index, fact)
            envelope = Envelope.new(name, 0, payload, producer=PRODUCERS[name])
            self.envelopes.append(envelope)
            self.fact_of_event[envelope.event_id] = index
            if key:
                self.fact_of_key[key] = index

    def manager_id(self, manager: int) -> str:
        return f"{self.namespace}-m{manager}"

    def exercise_id(self, exercise: int) -> str:
        return f"{self.namespace}-x{exercise}"

    def _event(self, index: int, fact: Fact) -> tuple[str, dict[str, Any], str]:
        if isinstance(fact, RatingChange):
            payload = {
                "exercise_id": self.exercise_id(fact.exercise),
                "exercise_version": 1,
                "rating": fact.rating,
                "rating_version": fact.rating_version,
                "attempted_candidates": 100,
                "failed_first_attempts": fact.rating,
                "changed_at": AT,
            }
            return "TaskRatingChanged", payload, ""
        reference = f"{self.namespace}-r{index}"
        common = {
            "manager_id": self.manager_id(fact.manager),
            "amount_cents": fact.amount_cents,
            "exercise_id": self.exercise_id(0),
            "occurred_at": AT,
        }
        if fact.name == "PaymentCommited":
            payload = {**common, "assignment_id": reference, "exercise_version": 2}
            return fact.name, payload, f"payment:{reference}"
        submission = {
            **common,
            "submission_id": reference,
            "candidate_id": f"{self.namespace}-c{index}",
            "exercise_version": 1,
        }
        if fact.name == "BonusAdded":
            extra = {"completion_number": 3, "rating": 40, "rating_version": 2}
            return fact.name, {**submission, **extra}, f"bonus:{reference}"
        extra = {"completion_number": 11, "reason": "leaked exercise solved: completion 11"}
        return fact.name, {**submission, **extra}, f"fine:{reference}"


# -- deliveries the transport allows ------------------------------------------------------------


@dataclass(frozen=True)
class Consume:
    """One poll of a consumer group; with lose_commit the process dies after its database
    commit and before its offset commit, and a new member takes over."""

    group: str
    batch_size: int
    lose_commit: bool


@dataclass(frozen=True)
class Publish:
    facts: tuple[int, ...]


Step = Publish | Consume
GROUPS = (consumers.MONEY_GROUP, consumers.RATINGS_GROUP)


@st.composite
def deliveries(draw: st.DrawFn, history: History) -> list[Step]:
    """What reaches the log, and when the consumers poll, as the transport allows it."""
    pending: dict[tuple[str, str, int], list[int]] = {}
    for index in range(len(history.facts)):
        pending.setdefault(history.stream_of(index), []).append(index)
    published: list[int] = []
    while pending:  # the streams interleave freely; within one, commit order holds
        stream = draw(st.sampled_from(sorted(pending)))
        published.append(pending[stream].pop(0))
        if not pending[stream]:
            del pending[stream]
    for index in list(published):  # a relay sending rows again: copies after the original
        for _ in range(draw(st.integers(0, 2))):
            after = published.index(index) + 1
            published.insert(draw(st.integers(after, len(published))), index)
    steps: list[Step] = []
    while published:
        size = draw(st.integers(1, 4))
        steps.append(Publish(tuple(published[:size])))
        del published[:size]
        for group in GROUPS:
            if draw(st.booleans()):
                steps.append(Consume(group, draw(st.integers(1, 5)), draw(st.booleans())))
    return steps


class _CommitsMayBeLost(Transport):
    """The embedded log, except that the next offset commit can be dropped on purpose."""

    def __init__(self, log: EmbeddedLog) -> None:
        self.log = log
        self.lose_next_commit = False

    def ensure_topics(self, topics: Sequence[str]) -> None:
        self.log.ensure_topics(topics)

    def producer(self) -> Producer:
        return self.log.producer()

    def consumer(self, group: str, topics: Sequence[str], member_id: str | None = None) -> Consumer:
        return _Member(self, self.log.consumer(group, topics, member_id))

    def read(self, topic: str, partition: int, offset: int, limit: int) -> list[Record]:
        return self.log.read(topic, partition, offset, limit)

    def partitions_for(self, topic: str) -> int:
        return self.log.partitions_for(topic)

    def end_offsets(self, topic: str) -> dict[int, int]:
        return self.log.end_offsets(topic)


class _Member(Consumer):
    def __init__(self, transport: _CommitsMayBeLost, member: Consumer) -> None:
        self._transport, self._member = transport, member

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        return self._member.poll(max_records, timeout_s)

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        if self._transport.lose_next_commit:
            self._transport.lose_next_commit = False
            return
        self._member.commit(offsets)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self._member.seek(partition, offset)

    def assignment(self) -> set[TopicPartition]:
        return self._member.assignment()

    def lag(self) -> dict[TopicPartition, int]:
        return self._member.lag()

    def close(self) -> None:
        self._member.close()


class Consumers:
    """The bonus service's consumer groups, with their real handlers, inbox and database, on
    the embedded log: they poll when a step says so, and never wait for more records."""

    def __init__(self, bonus: Bonus) -> None:
        self.bonus = bonus
        self.transports: dict[str, _CommitsMayBeLost] = {}
        self.runners: dict[str, ConsumerRunner] = {}
        for subscription in consumers.subscriptions():
            if subscription.group not in GROUPS:
                continue
            transport = _CommitsMayBeLost(bonus.log)
            runner = ConsumerRunner(
                service="bonus",
                subscription=subscription,
                transport=transport,
                registry=bonus.runtime.registry,
                engine=bonus.runtime.engine,
                max_attempts=2,
                backoff_base_s=0.001,
                poll_timeout_s=0,
                linger_s=0,
            )
            runner.start()
            self.transports[subscription.group] = transport
            self.runners[subscription.group] = runner

    def close(self) -> None:
        for runner in self.runners.values():
            runner.close()

    def publish(self, events: Events, facts: Sequence[int]) -> None:
        registry = self.bonus.runtime.registry
        messages = []
        for index in facts:
            envelope = events.envelopes[index]
            topic = registry.spec(envelope.event_name).topic
            key = registry.partition_key(envelope.event_name, envelope.payload)
            messages.append(OutgoingMessage(topic, key, envelope.to_json()))
        self.bonus.log.producer().send(messages)

    def consume(self, step: Consume) -> None:
        runner = self.runners[step.group]
        runner.batch_size = step.batch_size
        self.transports[step.group].lose_next_commit = step.lose_commit
        consumed = runner.run_once()
        self.transports[step.group].lose_next_commit = False
        if step.lose_commit and consumed:
            runner.close()  # the process is gone; a new member resumes at the committed offset
            runner.start()

    def drain(self) -> None:
        for runner in self.runners.values():
            runner.batch_size = 500
            while runner.run_once():
                pass

    def run(self, events: Events, steps: Sequence[Step]) -> None:
        for step in steps:
            if isinstance(step, Publish):
                self.publish(events, step.facts)
            else:
                self.consume(step)
        self.drain()


def dead_letters(bonus: Bonus) -> int:
    """Records in the dead-letter topics of both groups."""
    topics = ("money", "payments", "task-ratings")
    return sum(sum(bonus.log.end_offsets(dlq_topic(topic)).values()) for topic in topics)


# -- what the service shows afterwards, in the terms of the history -----------------------------

Entry = tuple[int, str, int, int, int]
"""(manager, kind, signed amount, fact of the business key, fact of the source event)"""


@dataclass(frozen=True)
class Outcome:
    entries: tuple[Entry, ...]
    balances: tuple[int | None, ...]
    ratings: tuple[tuple[int, int] | None, ...]


def observed(bonus: Bonus, events: Events) -> Outcome:
    """The ledger (through the service's own reads), balances and ratings of the example."""
    entries: list[Entry] = []
    balances: list[int | None] = []
    for manager in range(MANAGERS):
        manager_id = events.manager_id(manager)
        account = bonus.http.get(f"/accounts/{manager_id}")
        if account.status_code == 404:
            balances.append(None)
            continue
        balances.append(account.json()["balance_cents"])
        page = bonus.http.get(f"/accounts/{manager_id}/entries", params={"limit": 500}).json()
        for item in page["items"]:
            entries.append(
                (
                    manager,
                    item["kind"],
                    item["amount_cents"],
                    events.fact_of_key.get(item["business_key"], -1),
                    events.fact_of_event.get(item["source"]["event_id"], -1),
                )
            )
    ratings: list[tuple[int, int] | None] = []
    for exercise in range(EXERCISES):
        found = bonus.http.get(f"/ratings/{events.exercise_id(exercise)}")
        body = found.json()
        held = None if found.status_code == 404 else (body["rating"], body["rating_version"])
        ratings.append(held)
    return Outcome(tuple(sorted(entries)), tuple(balances), tuple(ratings))


def expected(history: History) -> Outcome:
    """What the business rules say: one entry per money event, balances the sums of their signed
    amounts (no account without an event), the rating of the highest rating_version."""
    entries: list[Entry] = []
    balances: list[int | None] = [None] * MANAGERS
    best: list[RatingChange | None] = [None] * EXERCISES
    for index, fact in enumerate(history.facts):
        if isinstance(fact, Money):
            amount = SIGN[fact.name] * fact.amount_cents
            entries.append((fact.manager, KIND[fact.name], amount, index, index))
            balances[fact.manager] = (balances[fact.manager] or 0) + amount
            continue
        held = best[fact.exercise]
        if held is None or fact.rating_version > held.rating_version:
            best[fact.exercise] = fact
    ratings = tuple(None if r is None else (r.rating, r.rating_version) for r in best)
    return Outcome(tuple(sorted(entries)), tuple(balances), ratings)


def inbox_rows(bonus: Bonus, events: Events) -> int:
    """Inbox claims of the example's events: each applied event is claimed exactly once."""
    ids = list(events.fact_of_event)
    with bonus.runtime.engine.connect() as conn:
        query = sa.text("SELECT COUNT(*) FROM inbox WHERE event_id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True)
        )
        return int(conn.execute(query, {"ids": ids}).scalar_one())
