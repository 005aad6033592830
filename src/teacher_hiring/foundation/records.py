"""Records (dataclasses) read from the mappings they travel or are stored as.

An event's payload, a stored JSON answer or a database row names its values as the record names
its fields; `from_mapping` takes each field's value under its name, so the field list is written
once, in the class, and a value that needs converting is given as it is converted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def from_mapping(record_type: type[T], values: Mapping[Any, Any], **given: Any) -> T:
    """A `record_type` with every field from `values` by its name, unless `given` (the converted
    or overridden ones); keys of `values` that name no field are ignored, a missing one raises
    KeyError."""
    names = (field.name for field in fields(record_type))
    taken = {name: values[name] for name in names if name not in given}
    return record_type(**taken, **given)
