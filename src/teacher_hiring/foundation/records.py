"""Frozen dataclass records to and from table rows whose columns carry the fields' names.

One rule both ways: a field is the column of its name, and a sequence field (a tuple in the
record) is a JSON list in the row. What differs from that (a time written as text, a column of
another name) is given by the caller.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Record = TypeVar("Record", bound="DataclassInstance")


def record_of(cls: type[Record], row: Any, **given: Any) -> Record:
    """A `cls` whose fields are read from the row's columns of the same names (a list read as a
    tuple), except those `given`."""
    read = {
        field.name: _frozen(getattr(row, field.name))
        for field in fields(cls)
        if field.init and field.name not in given
    }
    return cls(**read, **given)


def columns_of(record: DataclassInstance, *, without: Collection[str] = ()) -> dict[str, Any]:
    """The record's fields as column values (a tuple written as a list), but those `without`."""
    return {
        field.name: _thawed(getattr(record, field.name))
        for field in fields(record)
        if field.name not in without
    }


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _thawed(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
