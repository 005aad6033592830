"""Personal fields sealed under a per-person key: readable with it, never without."""

from __future__ import annotations

import pytest

from teacher_hiring.foundation.sealing import (
    CannotOpen,
    is_sealed,
    new_key,
    open_sealed,
    seal,
)

NAME = "Zinaida Personova"


def test_a_sealed_name_opens_with_its_key_as_its_person() -> None:
    key = new_key()
    sealed = seal(key, "cand-1", NAME)
    assert is_sealed(sealed) and NAME not in sealed
    assert open_sealed(key, "cand-1", sealed) == NAME


def test_a_sealed_name_does_not_open_with_another_key() -> None:
    sealed = seal(new_key(), "cand-1", NAME)
    with pytest.raises(CannotOpen):
        open_sealed(new_key(), "cand-1", sealed)


def test_a_sealed_name_copied_into_another_persons_event_does_not_open() -> None:
    key = new_key()
    sealed = seal(key, "cand-1", NAME)
    with pytest.raises(CannotOpen):
        open_sealed(key, "cand-2", sealed)


def test_sealing_twice_gives_two_values() -> None:
    key = new_key()
    assert seal(key, "cand-1", NAME) != seal(key, "cand-1", NAME)


@pytest.mark.parametrize("value", [NAME, "sealed:v1:", "sealed:v1:!!!", "sealed:v1:AAAA"])
def test_a_clear_or_damaged_value_is_refused(value: str) -> None:
    with pytest.raises(CannotOpen):
        open_sealed(new_key(), "cand-1", value)
