"""The money events of one poll are booked together, in one transaction and one call of the
batch handler, on SQLite and PostgreSQL alike; exactly once whatever fails or comes again.
The ratings of one poll are kept together too, the newest version winning."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from integration.bonus.bonus_support import (
    Bonus,
    bonus_added,
    counter,
    envelope,
    fine_added,
    payment_commited,
    rating_changed,
)
from teacher_hiring.bonus.service_layer import handlers
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.transport import OutgoingMessage

pytestmark = pytest.mark.integration

MANAGERS = ("anna", "boris", "vera")
POISON = b'{"event_name": "BonusAdded", "payload": '


class Crash(BaseException):
    """The process dying: not an error the runner could handle."""


def money_events(count: int) -> list[Envelope]:
    """Bonuses, fines and payments in turn, for the three managers in turn."""
    makers: list[Callable[[str, int], dict[str, Any]]] = [bonus_added, fine_added, payment_commited]
    names = ("BonusAdded", "FineAdded", "PaymentCommited")
    return [
        envelope(names[i % 3], makers[i % 3](MANAGERS[i % len(MANAGERS)], 100 + i))
        for i in range(count)
    ]


def balance_of(events: Sequence[Envelope], manager_id: str) -> int:
    sign = {"BonusAdded": 1, "FineAdded": -1, "PaymentCommited": 1}
    return sum(
        sign[e.event_name] * e.payload["amount_cents"]
        for e in events
        if e.payload["manager_id"] == manager_id
    )


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each call of the batch handler."""
    sizes: list[int] = []
    book = handlers.book_money_many

    def counted(bookings: Any, repository: Any) -> Any:
        sizes.append(len(bookings))
        return book(bookings, repository)

    monkeypatch.setattr(handlers, "book_money_many", counted)
    return sizes


def ledger_size(bonus: Bonus) -> int:
    return int(bonus.scalar("SELECT count(*) FROM ledger"))


def claimed(bonus: Bonus) -> int:
    return int(bonus.scalar("SELECT count(*) FROM inbox WHERE consumer = 'bonus.money'"))


def test_a_poll_of_money_events_books_each_once_in_one_call(
    bonus: Bonus, batches: list[int]
) -> None:
    events = money_events(60)
    bonus.publish(*events)

    assert bonus.consume() == 60

    assert batches == [60]
    assert ledger_size(bonus) == 60 and claimed(bonus) == 60
    for manager_id in MANAGERS:
        account = bonus.http.get(f"/accounts/{manager_id}").json()
        assert account["balance_cents"] == balance_of(events, manager_id)


def test_the_same_poll_delivered_again_books_nothing_more(bonus: Bonus) -> None:
    events = money_events(30)
    bonus.publish(*events)
    bonus.consume()
    duplicates = counter(
        "events_processed_total",
        service="bonus",
        consumer="bonus.money",
        event_name="BonusAdded",
        outcome="duplicate",
    )
    runner = bonus.runner("bonus.money")
    assert runner._consumer is not None
    for tp in runner._consumer.assignment():  # the offsets lost: every record comes again
        runner._consumer.seek(tp, 0)
    bonus.publish(*events)  # and a relay sends them all once more

    assert bonus.consume() == 60

    assert ledger_size(bonus) == 30 and claimed(bonus) == 30
    after = counter(
        "events_processed_total",
        service="bonus",
        consumer="bonus.money",
        event_name="BonusAdded",
        outcome="duplicate",
    )
    assert after - duplicates == 20  # the 10 bonuses, each seen twice more
    assert bonus.http.get("/accounts/anna").json()["balance_cents"] == balance_of(events, "anna")


def test_a_poison_record_in_the_middle_is_dead_lettered_alone_and_the_rest_booked(
    bonus: Bonus,
) -> None:
    before = [envelope("BonusAdded", bonus_added("anna", 100 + i)) for i in range(10)]
    after = [envelope("FineAdded", fine_added("anna", 10 + i)) for i in range(10)]
    bonus.publish(*before)
    bonus.log.producer().send([OutgoingMessage("money", "anna", POISON)])
    bonus.publish(*after)

    assert bonus.consume() == 21

    assert ledger_size(bonus) == 20 and claimed(bonus) == 20
    (dead,) = bonus.dead_letters("money")
    assert dead.value == POISON and dead.headers["dlq_reason"] == "invalid"
    expected = balance_of(before + after, "anna")
    assert bonus.http.get("/accounts/anna").json()["balance_cents"] == expected


def test_a_conflicting_event_in_the_middle_is_dead_lettered_alone_and_the_rest_booked(
    bonus: Bonus,
) -> None:
    first = [envelope("BonusAdded", bonus_added("anna", 100 + i)) for i in range(10)]
    submission = first[3].payload["submission_id"]
    conflicting = envelope("BonusAdded", bonus_added("anna", 999, submission_id=submission))
    then = [envelope("PaymentCommited", payment_commited("anna", 10 + i)) for i in range(10)]
    bonus.publish(*first, conflicting, *then)

    assert bonus.consume() == 21

    assert ledger_size(bonus) == 20
    (dead,) = bonus.dead_letters("money")
    assert Envelope.from_json(dead.value).event_id == conflicting.event_id
    assert dead.headers["dlq_reason"] == "failed"
    assert "BusinessKeyConflict" in dead.headers["dlq_error"]
    expected = balance_of(first + then, "anna")
    assert bonus.http.get("/accounts/anna").json()["balance_cents"] == expected


def test_a_crash_in_the_middle_of_a_batch_books_none_of_it_and_the_redelivery_each_once(
    bonus: Bonus, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = money_events(40)
    bonus.publish(*events)
    book = handlers.book_money_many

    def dies_after_writing(bookings: Any, repository: Any) -> Any:
        book(bookings, repository)  # the rows are written, the transaction not committed
        raise Crash()

    monkeypatch.setattr(handlers, "book_money_many", dies_after_writing)
    runner = bonus.runner("bonus.money")
    runner.start()
    with pytest.raises(Crash):
        runner.run_once()
    assert ledger_size(bonus) == 0 and claimed(bonus) == 0
    runner.close()  # the process is gone; a new one resumes at the committed offsets
    monkeypatch.setattr(handlers, "book_money_many", book)

    assert bonus.consume() == 40

    assert ledger_size(bonus) == 40 and claimed(bonus) == 40


def test_ratings_of_one_poll_are_kept_together_and_the_newest_version_wins(
    bonus: Bonus, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []
    keep = handlers.record_ratings

    def counted(commands: Any, uow: Any) -> Any:
        sizes.append(len(commands))
        return keep(commands, uow)

    monkeypatch.setattr(handlers, "record_ratings", counted)
    bonus.publish(envelope("TaskRatingChanged", rating_changed("ex-a", 10, 2)))
    bonus.consume("bonus.ratings")
    versions = [(30, 5), (20, 3), (40, 5), (50, 6), (5, 1)]  # one repeated, two behind
    bonus.publish(
        *(envelope("TaskRatingChanged", rating_changed("ex-a", r, v)) for r, v in versions)
    )
    bonus.publish(envelope("TaskRatingChanged", rating_changed("ex-b", 70, 1)))

    assert bonus.consume("bonus.ratings") == 6

    assert sizes == [1, 6]
    held = bonus.http.get("/ratings/ex-a").json()
    assert (held["rating"], held["rating_version"]) == (50, 6)
    assert bonus.http.get("/ratings/ex-b").json()["rating"] == 70
