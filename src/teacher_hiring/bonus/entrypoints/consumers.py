"""The consumer groups of the bonus service; each handler parses the event and calls a handler.

The runner has already validated the event against its schema and claimed it in the inbox,
in the transaction these functions join; raising makes it retry, then dead-letter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection

from teacher_hiring.bonus.adapters.repository import BonusRepository
from teacher_hiring.bonus.domain.commands import MoneyCommand, RecordRating, ReplicateManager
from teacher_hiring.bonus.domain.model import EventSource
from teacher_hiring.bonus.service_layer import handlers
from teacher_hiring.bonus.service_layer.money_calls import MONEY_COMMANDS, MONEY_FEED
from teacher_hiring.events import exercises as exercise_events
from teacher_hiring.messaging.consumer import EventHandler, Handler, Subscription
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.messaging.upcasting import Upcaster

MONEY_GROUP = MONEY_FEED  # POST /api/v0/money claims under the same name
RATINGS_GROUP = "bonus.ratings"
MANAGERS_GROUP = "bonus.managers"


def _source(envelope: Envelope) -> EventSource:
    return EventSource(
        event_id=envelope.event_id,
        event_name=envelope.event_name,
        producer=envelope.producer,
        trace_id=envelope.trace_id,
    )


def _money(command_type: Callable[..., MoneyCommand]) -> Handler:
    def handle(envelope: Envelope, conn: Connection) -> None:
        handlers.record_money(
            command_type(**envelope.payload),
            _source(envelope),
            UnitOfWork.joining(conn, BonusRepository),
        )

    return handle


def _book_money(envelopes: Sequence[Envelope], conn: Connection) -> None:
    """The money events of a poll, booked together (the runner's `many`): bonuses, fines and
    payments alike, two statements for the batch."""
    bookings = [(MONEY_COMMANDS[e.event_name](**e.payload), _source(e)) for e in envelopes]
    handlers.record_money_many(bookings, UnitOfWork.joining(conn, BonusRepository))


def _money_handler(event_name: str) -> EventHandler:
    return EventHandler(_money(MONEY_COMMANDS[event_name]), many=_book_money)


def _rating_changed(envelope: Envelope, conn: Connection) -> None:
    handlers.record_rating(
        RecordRating(**envelope.payload), UnitOfWork.joining(conn, BonusRepository)
    )


def _record_ratings(envelopes: Sequence[Envelope], conn: Connection) -> None:
    """The ratings of a poll, kept together (the runner's `many`): one read, one write."""
    commands = [RecordRating(**envelope.payload) for envelope in envelopes]
    handlers.record_ratings(commands, UnitOfWork.joining(conn, BonusRepository))


def _manager_changed(envelope: Envelope, conn: Connection) -> None:
    command = ReplicateManager(**envelope.payload, as_of=envelope.produced_at)
    handlers.replicate_manager(command, UnitOfWork.joining(conn, BonusRepository))


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            MONEY_GROUP,
            {name: _money_handler(name) for name in ("BonusAdded", "FineAdded", "PaymentCommited")},
        ),
        Subscription(
            RATINGS_GROUP,
            {"TaskRatingChanged": EventHandler(_rating_changed, many=_record_ratings)},
        ),
        Subscription(
            MANAGERS_GROUP,
            {
                "ManagerCreated": EventHandler(_manager_changed, version=1),
                "ManagerUpdated": EventHandler(_manager_changed, version=1),
            },
        ),
    ]


def upcaster() -> Upcaster:
    """The steps these groups need: exercises' v0 managers read as v1."""
    return Upcaster.of(exercise_events.MANAGER_STEPS)
