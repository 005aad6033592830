"""The one text form of a time: epoch seconds written as datetime writes them, digit for digit."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from teacher_hiring.foundation.time import is_rfc3339_utc, parse_rfc3339, rfc3339


def as_datetime_writes_it(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


@pytest.mark.parametrize(
    "seconds",
    [
        0.0,
        1.0,
        1741944413.589793,
        1741944413.9999995,  # rounds up into the next second
        1741944413.0000005,
        1741944413.0000015,
        1741944413.9999999,
        1767225599.9999996,  # into the next year
        4102444800.5,
        -1.5,  # before 1970: still datetime's text
    ],
)
def test_epoch_seconds_are_written_as_datetime_writes_them(seconds: float) -> None:
    assert rfc3339(seconds) == as_datetime_writes_it(seconds)


def test_any_moment_of_this_century_is_written_as_datetime_writes_it() -> None:
    rng = random.Random(7)
    moments = [rng.uniform(946684800, 4102444800) for _ in range(20_000)]
    moments += [float(int(m)) + rng.choice((5e-7, 1.5e-6, 0.9999995)) for m in moments[:2000]]
    assert [rfc3339(m) for m in moments] == [as_datetime_writes_it(m) for m in moments]


def test_the_text_reads_back_as_the_same_microsecond() -> None:
    text = rfc3339(1741944413.589793)
    assert text == "2025-03-14T09:26:53.589793Z"
    assert parse_rfc3339(text) == datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("2025-03-14T09:26:53.589793Z", True),
        ("2025-03-14T09:26:53.589793+00:00", False),
        ("2025-03-14T09:26:53Z", False),
        ("2025-03-14T09:26:53.589793z", False),
        ("2025-02-30T09:26:53.589793Z", False),
        ("2025-03-14T25:26:53.589793Z", False),
        ("2025-03-14T09:26:53.58979३Z", False),  # a Devanagari digit
        ("2025-03-14 09:26:53.589793Z", False),
    ],
)
def test_a_text_is_as_rfc3339_writes_it_only_in_that_exact_form(text: str, written: bool) -> None:
    assert is_rfc3339_utc(text) is written
    if written:
        assert rfc3339(parse_rfc3339(text)) == text
