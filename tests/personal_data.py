"""Where a person's data still is: every value of every row of every table of a database,
and the records of an event log, searched for given texts (a name, an email, an answer)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa


def found_in_database(engine: sa.Engine, needles: Iterable[str]) -> list[str]:
    """`table.column` of each value holding one of `needles` (text, JSON or bytes)."""
    wanted = [n for n in needles if n]
    found: list[str] = []
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                for column, value in row._mapping.items():
                    text = _text(value)
                    if text is not None and any(n in text for n in wanted):
                        found.append(f"{table.name}.{column}")
    return sorted(set(found))


def found_in_records(values: Iterable[bytes | None], needles: Iterable[str]) -> int:
    """How many of the records' values hold one of `needles`."""
    wanted = [n for n in needles if n]
    return sum(1 for v in values if v is not None and any(n in v.decode() for n in wanted))


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, dict | list):
        return repr(value)
    return None
