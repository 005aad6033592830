"""Two instances of bonus on one PostgreSQL database, applying money events at the same moment.

A consumer group gives each key to one instance, but not during a rebalance, and a replayed
dead letter may race its original: the database alone must keep one account per manager and
one entry per business key.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from integration.bonus.bonus_support import bonus_added, rating_changed
from teacher_hiring.bonus.adapters.repository import BonusRepository
from teacher_hiring.bonus.bootstrap import MIGRATIONS
from teacher_hiring.bonus.domain.commands import CreditBonus, RecordRating
from teacher_hiring.bonus.domain.model import EventSource
from teacher_hiring.bonus.service_layer import handlers
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.runtime.db import dispose, make_engine, upgrade_to_head

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

T = TypeVar("T")


@pytest.fixture
def instances(postgres_url: str) -> Iterator[list[Engine]]:
    engines = [make_engine(postgres_url) for _ in range(2)]
    upgrade_to_head(engines[0], MIGRATIONS)
    yield engines
    for engine in engines:
        dispose(engine)


def at_once(count: int, work: Callable[[int], T]) -> list[T]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(work, range(count)))


def credit(engine: Engine, command: CreditBonus) -> handlers.Outcome:
    source = EventSource(str(uuid.uuid4()), "BonusAdded", "hiring", "trace")
    return handlers.record_money(command, source, UnitOfWork(engine, BonusRepository))


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def test_money_for_a_new_manager_at_both_instances_opens_one_account_and_keeps_every_entry(
    instances: list[Engine],
) -> None:
    bonuses = [CreditBonus(**bonus_added("newcomer", 1000 + n)) for n in range(16)]

    outcomes = at_once(16, lambda n: credit(instances[n % 2], bonuses[n]))

    assert outcomes == [handlers.Outcome.APPLIED] * 16
    assert count(instances[0], "SELECT count(*) FROM accounts") == 1
    assert count(instances[0], "SELECT count(*) FROM ledger") == 16
    total = sum(b.amount_cents for b in bonuses)
    assert count(instances[0], "SELECT sum(amount_cents) FROM ledger") == total


def test_one_bonus_re_emitted_under_new_event_ids_at_once_is_credited_once(
    instances: list[Engine],
) -> None:
    bonus = CreditBonus(**bonus_added("anna", 1400))

    outcomes = at_once(12, lambda n: credit(instances[n % 2], bonus))

    assert sorted(outcomes) == sorted(
        [handlers.Outcome.APPLIED] + [handlers.Outcome.DUPLICATE] * 11
    )
    assert count(instances[0], "SELECT count(*) FROM ledger") == 1


def test_ratings_arriving_at_once_in_any_order_keep_the_newest(instances: list[Engine]) -> None:
    ratings = [RecordRating(**rating_changed("ex-1", 5 * v, v)) for v in range(1, 13)]

    at_once(
        12,
        lambda n: handlers.record_rating(ratings[n], UnitOfWork(instances[n % 2], BonusRepository)),
    )

    with instances[0].connect() as conn:
        stored = conn.execute(sa.text("SELECT rating, rating_version FROM ratings")).one()
    assert tuple(stored) == (60, 12)
