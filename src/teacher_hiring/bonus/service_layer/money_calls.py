"""Money credited by a synchronous call (COMM-040, 050, 080 in sync mode: the old wiring).

The caller POSTs the event's whole envelope; it is applied exactly as the money consumer
applies it from the log: claimed in the inbox under the consumer's own name, then turned into
its one ledger entry by `book_money` and its business key. So an event that arrives by the
call and by the log (a link switched under traffic, a retried call) is one entry.
"""

from __future__ import annotations

from collections.abc import Callable

from teacher_hiring.bonus.domain.commands import CreditBonus, CreditPayment, DebitFine, MoneyCommand
from teacher_hiring.bonus.domain.errors import BonusError
from teacher_hiring.bonus.domain.model import EventSource
from teacher_hiring.bonus.service_layer.handlers import Outcome, book_money
from teacher_hiring.bonus.service_layer.ports import Repository
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.unit_of_work import UnitOfWork

MONEY_FEED = "bonus.money"
"""The inbox name of money events: the consumer group and the synchronous endpoint share it."""

MONEY_COMMANDS: dict[str, Callable[..., MoneyCommand]] = {
    "BonusAdded": CreditBonus,
    "FineAdded": DebitFine,
    "PaymentCommited": CreditPayment,
}


class MoneyEventRefused(BonusError):
    """A call carrying something other than a valid BonusAdded, FineAdded or PaymentCommited."""


class NotTheProducer(BonusError):
    """A money call from a service other than the one that owns the event (403): each service
    sends only the money it issues (hiring bonuses and fines, exercises payments)."""


def receive_money_call(
    envelope: Envelope, caller: str, owner: str, uow: UnitOfWork[Repository]
) -> Outcome:
    """Apply a money event sent by a call; DUPLICATE when its id or its business key is in.

    `caller` is the service the call's token names, `owner` the producer of the event's kind
    (schemas/events.yaml): any other caller is refused before anything is claimed or booked.
    """
    command_type = MONEY_COMMANDS.get(envelope.event_name)
    if command_type is None:
        raise MoneyEventRefused(
            f"event_name: {envelope.event_name} is not a money event ({', '.join(MONEY_COMMANDS)})",
            field="event_name",
        )
    if caller != owner:
        raise NotTheProducer(
            f"caller: {envelope.event_name} is taken from {owner}, its producer, only; "
            f"the token names the service {caller!r}",
            field="caller",
        )
    source = EventSource(
        event_id=envelope.event_id,
        event_name=envelope.event_name,
        producer=envelope.producer,
        trace_id=envelope.trace_id,
    )
    with uow:
        outcome = Outcome.DUPLICATE
        if uow.claim(MONEY_FEED, envelope):
            command = command_type(**envelope.payload)
            outcome = book_money(command, source, uow.repo)
        uow.commit()
    return outcome
