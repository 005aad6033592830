"""Money and times as the pages show them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from teacher_hiring.web.format import cents, day, moment, money, signed_money, time_tag


@pytest.mark.parametrize(
    ("minor", "shown"),
    [(0, "0.00"), (5, "0.05"), (1234, "12.34"), (-500, "-5.00"), (-5, "-0.05"), (3000, "30.00")],
)
def test_money_is_shown_in_major_units_with_two_decimals(minor: int, shown: str) -> None:
    assert money(minor) == shown
    assert cents(shown) == minor


def test_a_ledger_amount_always_shows_its_sign() -> None:
    assert (signed_money(1400), signed_money(-500), signed_money(0)) == ("+14.00", "-5.00", "+0.00")


@pytest.mark.parametrize("text", ["", "12,34", "1.234", "ten", "1.x", "--1"])
def test_what_is_not_an_amount_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        cents(text)


def test_a_time_carries_its_utc_moment_for_the_viewers_zone_and_says_utc_until_converted() -> None:
    shown = moment("2025-03-14T12:26:53.589793+03:00")

    assert shown == (
        '<time datetime="2025-03-14T09:26:53.589793Z" data-local="minutes">'
        "2025-03-14 09:26 UTC</time>"
    )
    assert "09:26:53 UTC" in moment(datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC), seconds=True)
    east = timezone(timedelta(hours=5))
    assert 'datetime="2025-03-14T04:00:00Z"' in moment(datetime(2025, 3, 14, 9, tzinfo=east))
    assert 'datetime="1970-01-01T00:01:40Z"' in moment(100.0)
    assert moment(None) == ""


def test_a_day_is_not_converted() -> None:
    assert day("2025-03-14T23:00:00Z") == "2025-03-14"


def test_a_text_that_is_no_time_is_shown_as_it_is() -> None:
    assert time_tag("soon <b>") == "soon &lt;b&gt;"
    assert time_tag("2025-03-14T09:26:00.000000Z").startswith(
        '<time datetime="2025-03-14T09:26:00Z"'
    )
