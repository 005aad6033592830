"""Windows and cursors of the operator's paginated reads."""

from __future__ import annotations

import pytest

from teacher_hiring.foundation.pages import (
    InvalidQuery,
    Window,
    decode_cursor,
    encode_cursor,
    parse_moment,
    shift,
)


def test_moments_are_normalised_to_utc_with_microseconds() -> None:
    assert parse_moment("2025-03-14T12:00:00+03:00", "since") == "2025-03-14T09:00:00.000000Z"
    assert parse_moment("2025-03-14T09:26:53.5Z", "since") == "2025-03-14T09:26:53.500000Z"
    assert parse_moment("2025-03-14", "until") == "2025-03-14T00:00:00.000000Z"
    assert shift("2025-03-14T00:00:00.000000Z", -86400) == "2025-03-13T00:00:00.000000Z"


@pytest.mark.parametrize(
    ("since", "until", "field"),
    [
        ("last week", None, "since"),
        (None, "2025-03-14T09:00:00", "until"),  # a timestamp without its offset
        ("2025-03-14", "2025-03-14", "until"),
        ("2025-03-15", "2025-03-14T23:00:00Z", "until"),
    ],
)
def test_a_window_that_cannot_be_used_names_its_field(
    since: str | None, until: str | None, field: str
) -> None:
    with pytest.raises(InvalidQuery, match=rf"^{field}: "):
        Window.parse(since, until)


def test_a_cursor_gives_back_the_sort_key_it_was_made_of() -> None:
    moment = "2025-03-14T09:00:00.000000Z"
    assert decode_cursor(encode_cursor(moment, "event-1"), str) == (moment, "event-1")
    assert decode_cursor(encode_cursor(moment, 42), int) == (moment, 42)


@pytest.mark.parametrize(
    "text",
    ["", "not a cursor", encode_cursor("2025-03-14T09:00:00.000000Z", 42), "WyJ4IiwxXQ"],
)
def test_anything_but_a_cursor_of_the_same_endpoint_is_refused(text: str) -> None:
    with pytest.raises(InvalidQuery, match=r"^after: "):
        decode_cursor(text, str)
