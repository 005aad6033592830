"""Time windows and cursors of the operator's paginated reads (money issued, ledger entries).

Moments travel as RFC 3339 text normalised by `foundation.time.rfc3339`, whose text order is
their time order, so the services compare them as text in SQL.

A cursor is opaque to the caller: the sort key of the last item of a page, so the next page
starts right after it (keyset pagination), whatever was written meanwhile before it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from teacher_hiring.foundation.time import is_rfc3339_utc, parse_rfc3339, rfc3339

MAX_PAGE = 1000


class InvalidQuery(ValueError):
    """A query parameter that cannot be used; the message starts with its name."""


def now_text(minus_s: float = 0.0) -> str:
    return rfc3339(datetime.now(UTC) - timedelta(seconds=minus_s))


def parse_moment(text: str, field: str) -> str:
    """An RFC 3339 timestamp with its offset, or a day (YYYY-MM-DD, midnight UTC), normalised."""
    if is_rfc3339_utc(text):
        return text  # normalised already
    try:
        moment = parse_rfc3339(text)
    except ValueError:
        raise InvalidQuery(
            f"{field}: not an RFC 3339 timestamp or a YYYY-MM-DD day: {text!r}"
        ) from None
    if moment.tzinfo is None:
        if len(text) != len("YYYY-MM-DD"):
            raise InvalidQuery(f"{field}: a timestamp needs its UTC offset (Z or +hh:mm): {text!r}")
        moment = moment.replace(tzinfo=UTC)
    return rfc3339(moment)


def shift(moment: str, seconds: float) -> str:
    """The normalised moment `seconds` later (earlier when negative)."""
    return rfc3339(parse_rfc3339(moment) + timedelta(seconds=seconds))


@dataclass(frozen=True, slots=True)
class Window:
    """[since, until): both ends normalised moments, or None for "from the first" / "up to now"."""

    since: str | None
    until: str | None

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> Window:
        window = cls(
            None if since is None else parse_moment(since, "since"),
            None if until is None else parse_moment(until, "until"),
        )
        if window.since is not None and window.until is not None and window.until <= window.since:
            raise InvalidQuery(f"until: {window.until} is not after since {window.since}")
        return window


def encode_cursor(moment: str, tiebreak: str | int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([moment, tiebreak])).decode().rstrip("=")


def decode_cursor(
    text: str, tiebreak: type[str] | type[int], field: str = "after"
) -> tuple[str, str | int]:
    """The sort key a cursor of `encode_cursor` holds; InvalidQuery for anything else."""
    refused = InvalidQuery(f"{field}: not a cursor this endpoint gave (use the page's `next`)")
    try:
        data = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        raise refused from None
    if not (
        isinstance(data, list)
        and len(data) == 2
        and isinstance(data[0], str)
        and type(data[1]) is tiebreak
    ):
        raise refused
    try:
        parse_moment(data[0], field)
    except InvalidQuery:
        raise refused from None
    return data[0], data[1]
