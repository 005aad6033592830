"""A replay on a log where only a topic's producer may write it: the producer writes it.

On the secured broker each service writes its own topics only (messaging/kafka_access.py), so
a consumer cannot put a dead letter back on the topic it read it from. It asks the topic's
owner in the catalogue to send its own copy of each event again (the producer stages the
envelope it keeps, messaging/restage.restage_on_topic); the bytes of the dead letter are never
sent on the consumer's word. The HTTP call is the runtime's (runtime/producer_replays.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from teacher_hiring.messaging.dead_letter_rules import DeadLetter, ReplayUnavailable
from teacher_hiring.messaging.registry import SchemaRegistry

AT_PRODUCER_DONE = frozenset({"restaged", "pending"})
"""What a producer answers for an event it will send again (messaging.restage.Resent)."""


class AtProducer(Protocol):
    """Asks `producer` to send again its own copy of each event of `topic` (a replay on a log
    where only the producer writes the topic). Answers, per event id, `restaged`, `pending`
    (not sent yet: its relay will) or `unknown` (not held, or not of that topic); raises
    ReplayUnavailable or ReplayFailed when the producer cannot be asked."""

    def __call__(
        self, producer: str, topic: str, event_ids: Sequence[str]
    ) -> Mapping[str, str]: ...


def ask_producers(
    service: str,
    registry: SchemaRegistry,
    at_producer: AtProducer | None,
    letters: Sequence[DeadLetter],
) -> list[tuple[DeadLetter, str]]:
    """Ask each topic's producer to send these dead letters' events again; the letters it
    could not, each with why. Raises ReplayUnavailable when there is no producer to ask."""
    by_topic: dict[str, list[DeadLetter]] = {}
    for letter in letters:
        by_topic.setdefault(letter.topic, []).append(letter)
    refused: list[tuple[DeadLetter, str]] = []
    for topic, chosen in by_topic.items():
        owner = registry.topic_owner(topic)
        if owner is None or at_producer is None:
            raise ReplayUnavailable(
                f"topic: only {owner or 'its producer'} may write {topic} on this event "
                f"log, and {service} has no way to ask it for the replay",
                field="topic",
            )
        outcomes = at_producer(owner, topic, [d.event_id for d in chosen if d.event_id])
        for letter in chosen:
            if outcomes.get(letter.event_id or "", "unknown") not in AT_PRODUCER_DONE:
                why = (
                    f"{owner} does not hold event {letter.event_id} any more: its outbox "
                    "keeps sent events for a while only"
                )
                refused.append((letter, why))
    return refused
