"""The one unit of work: an owned transaction commits only on `commit()`; a joined one leaves
commit and rollback to its owner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.runtime.db import make_engine

NOTES = sa.table("notes", sa.column("text"))


class Notes:
    """A repository of one table, as a service's would be."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, text: str) -> None:
        self.conn.execute(sa.insert(NOTES).values(text=text))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'notes.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (text TEXT)")
    yield engine
    engine.dispose()


def notes(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(NOTES.c.text)).scalars())


def test_a_committed_block_keeps_its_writes(engine: Engine) -> None:
    with UnitOfWork(engine, Notes) as uow:
        uow.repo.add("kept")
        uow.commit()
    assert notes(engine) == ["kept"]


def test_a_block_left_without_commit_rolls_back(engine: Engine) -> None:
    with UnitOfWork(engine, Notes) as uow:
        uow.repo.add("forgotten")
    assert notes(engine) == []


def test_an_exception_rolls_back(engine: Engine) -> None:
    uow = UnitOfWork(engine, Notes)
    with pytest.raises(RuntimeError, match="failed"), uow:
        uow.repo.add("failed")
        raise RuntimeError("failed")
    assert notes(engine) == []


def test_each_block_is_a_new_transaction(engine: Engine) -> None:
    uow = UnitOfWork(engine, Notes)
    with uow:
        uow.repo.add("first")
        uow.commit()
    with uow:
        uow.repo.add("second")
    assert notes(engine) == ["first"]


def test_a_joined_unit_of_work_leaves_commit_and_rollback_to_the_owner(engine: Engine) -> None:
    with engine.connect() as conn:
        with conn.begin() as owned, UnitOfWork.joining(conn, Notes) as uow:
            uow.repo.add("rolled back by the owner")
            uow.commit()  # nothing: the owner decides
            owned.rollback()
        with conn.begin(), UnitOfWork.joining(conn, Notes) as uow:
            uow.repo.add("committed by the owner")
        assert not conn.closed
    assert notes(engine) == ["committed by the owner"]


def test_staging_needs_an_outbox(engine: Engine) -> None:
    with UnitOfWork(engine, Notes) as uow, pytest.raises(RuntimeError, match="outbox"):
        uow.stage("CandidateCreated", {})


def test_the_repositories_and_connection_exist_only_inside_the_block(engine: Engine) -> None:
    uow = UnitOfWork(engine, Notes)
    with pytest.raises(AssertionError):
        uow.repo.add("outside")
    with uow:
        assert uow.repo.conn is uow.conn
        uow.commit()
    with pytest.raises(AssertionError):
        uow.conn.execute(sa.text("SELECT 1"))
