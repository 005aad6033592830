"""Sliding-window limits (foundation.rate_limits) and which addresses they count."""

from __future__ import annotations

import pytest

from teacher_hiring.foundation.rate_limits import Limit, Limiter, counted_address


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_limit_takes_its_count_per_window_and_says_when_it_lifts() -> None:
    clock = Clock()
    limiter = Limiter(clock)
    three = [("k", Limit(3, 60))]
    for _ in range(3):
        assert limiter.take(three) is None
        clock.now += 10
    refused = limiter.take(three)
    assert refused is not None and refused.key == "k"
    assert refused.wait_s == pytest.approx(30.0)  # the first event leaves the window at 1060
    assert refused.retry_after_s == 30
    clock.now = 1060.0
    assert limiter.take(three) is None  # the first event is out: one more is taken
    assert limiter.take(three) is not None


def test_a_refusal_records_nothing_and_names_the_longest_wait() -> None:
    clock = Clock()
    limiter = Limiter(clock)
    keys = [("all", Limit(10, 60)), ("address:a", Limit(1, 3600))]
    assert limiter.take(keys) is None
    for _ in range(5):
        refused = limiter.take(keys)
        assert refused is not None and refused.key == "address:a"
    # the refused tries did not count against everyone's limit: 9 more from other addresses
    for n in range(9):
        assert limiter.take([("all", Limit(10, 60)), (f"address:{n}", Limit(1, 3600))]) is None
    refused = limiter.take([("all", Limit(10, 60))])
    assert refused is not None and refused.key == "all"


def test_a_count_of_zero_is_no_limit_and_a_fraction_of_a_second_is_one() -> None:
    clock = Clock()
    limiter = Limiter(clock)
    assert all(limiter.take([("k", Limit(0, 60))]) is None for _ in range(1000))
    assert limiter.take([("j", Limit(1, 0.2))]) is None
    refused = limiter.take([("j", Limit(1, 0.2))])
    assert refused is not None and refused.retry_after_s == 1


@pytest.mark.parametrize(
    ("host", "counted"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8::1", "2001:db8::1"),
        ("127.0.0.1", None),
        ("::1", None),
        ("testclient", None),
        ("", None),
        (None, None),
    ],
)
def test_the_machines_own_address_is_not_counted(host: str | None, counted: str | None) -> None:
    assert counted_address(host) == counted
