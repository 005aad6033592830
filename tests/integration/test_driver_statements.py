"""Core statements run as driver SQL (runtime.db.DriverStatement), on SQLite and PostgreSQL:
the same rows, row counts and errors as Connection.execute gives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from teacher_hiring.foundation.sql import DriverStatement, bound_insert
from teacher_hiring.runtime.db import dispose, make_engine

pytestmark = pytest.mark.integration

metadata = sa.MetaData()
items = sa.Table(
    "driver_items",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner", sa.String(36), nullable=False),
    sa.Column("count", sa.Integer, nullable=True),
    sa.Column("flag", sa.Boolean, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
)

INSERT = bound_insert(items, ("id", "owner", "count", "flag", "body"))
# One parameter used twice, and values written in the statement (coalesce's 0 and 7).
READ = DriverStatement(
    sa.select(
        items.c.id,
        sa.func.coalesce(items.c.count, 0).label("count"),
        (sa.func.coalesce(items.c.count, 0) + 7).label("count_plus_seven"),
        items.c.flag,
        items.c.body,
    ).where(
        sa.or_(items.c.id == sa.bindparam("key"), items.c.owner == sa.bindparam("key")),
        items.c.owner != sa.bindparam("not_owner"),
    )
)
BUMP = DriverStatement(
    items.update()
    .where(items.c.owner == sa.bindparam("k_owner"))
    .values(count=sa.func.coalesce(items.c.count, 0) + 1)
)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    yield engine
    dispose(engine)


def row(id_: str, owner: str, count: int | None = None) -> dict[str, object]:
    return {"id": id_, "owner": owner, "count": count, "flag": True, "body": b"\x00\xff"}


def test_rows_read_back_as_written_with_the_statements_own_values(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        INSERT(conn, row("a", "o-1"))
        INSERT(conn, row("b", "o-1", count=3))
        INSERT(conn, row("c", "o-2", count=5))

        found = READ(conn, {"key": "o-1", "not_owner": "nobody"}).all()

    assert sorted(
        (r.id, r.count, r.count_plus_seven, bool(r.flag), bytes(r.body)) for r in found
    ) == [
        ("a", 0, 7, True, b"\x00\xff"),
        ("b", 3, 10, True, b"\x00\xff"),
    ]


def test_the_row_count_of_an_update_is_kept(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for id_ in ("a", "b", "c"):
            INSERT(conn, row(id_, "o-1"))
        assert BUMP(conn, {"k_owner": "o-1"}).rowcount == 3
        assert BUMP(conn, {"k_owner": "nobody"}).rowcount == 0


def test_a_duplicate_raises_sqlalchemys_integrity_error_and_rolls_back(engine: sa.Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        INSERT(conn, row("a", "o-1"))
        INSERT(conn, row("a", "o-2"))

    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(items)).scalar_one() == 0


def test_a_missing_parameter_is_a_key_error_naming_it(engine: sa.Engine) -> None:
    with engine.begin() as conn, pytest.raises(KeyError, match="parameters not given: not_owner"):
        READ(conn, {"key": "o-1"})
