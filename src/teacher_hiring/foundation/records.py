"""Frozen dataclass records read from and written to the rows and mappings they are stored as.

One rule every way: a field is the column or key of its name, so the field list is written once,
in the class. Rows (`record_of`, `columns_of`): a sequence field (a tuple in the record) is a JSON
list in the row. Mappings (`from_mapping`: an event's payload, a stored JSON answer): each field
is taken under its name. What differs from that (a time written as text, a value converted) is
given by the caller.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
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


def from_mapping(cls: type[Record], values: Mapping[Any, Any], **given: Any) -> Record:
    """A `cls` with every field from `values` by its name, unless `given` (the converted or
    overridden ones); keys of `values` that name no field are ignored, a missing one raises
    KeyError."""
    names = (field.name for field in fields(cls))
    taken = {name: values[name] for name in names if name not in given}
    return cls(**taken, **given)


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _thawed(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
