"""How pages show money and times: 12.34 from minor units, a time as `<time datetime=...>`.

A time is written in UTC on the server and carries its RFC 3339 moment in `datetime`; the
page's small script (static/site.js) rewrites the text in the viewer's time zone. Without
the script the UTC text stays, saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from markupsafe import Markup, escape

from teacher_hiring.foundation.time import parse_rfc3339

MINUS = "\N{MINUS SIGN}"
WHOLE_NUMBER_DIGITS = 18
"""The most digits a form's number may have: any such number fits in 64 bits."""


def whole_number(text: str) -> int | None:
    """A form field's whole number, or None when it is not one that fits in 64 bits.

    Not `text.isdigit()` alone: it is true of "²" and of "٣", which int() refuses or reads,
    and of five thousand digits, which int() refuses too (a 500, before).
    """
    if not (text.isascii() and text.isdigit()) or len(text) > WHOLE_NUMBER_DIGITS:
        return None
    return int(text)


def money(cents: int | None) -> str:
    """Minor units as major units with two decimals: 1234 -> "12.34", -500 -> "-5.00"."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{part:02d}"


def signed_money(cents: int) -> str:
    """A ledger amount with its sign always shown: "+10.00", "-5.00"."""
    return money(cents) if cents < 0 else f"+{money(cents)}"


def cents(text: str) -> int:
    """ "12.34", "12.3", "12" or "-5.00" as minor units; ValueError for anything else."""
    cleaned = text.strip().replace(MINUS, "-")
    sign = -1 if cleaned.startswith("-") else 1
    digits = cleaned[1:] if cleaned[:1] in ("+", "-") else cleaned
    whole, _, part = digits.partition(".")
    if not whole.isdigit() or (part and (not part.isdigit() or len(part) > 2)):
        raise ValueError(f"not an amount of money: {text!r}")
    return sign * (int(whole) * 100 + int(part.ljust(2, "0") or 0))


def as_moment(value: str | float | datetime) -> datetime:
    """An RFC 3339 text, epoch seconds or a datetime as an aware datetime in UTC (a text or a
    datetime without an offset is taken as UTC)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    else:
        moment = parse_rfc3339(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def moment(value: str | float | datetime | None, *, seconds: bool = False) -> Markup:
    """`<time datetime="...Z">2025-03-14 09:26 UTC</time>`, rewritten to the viewer's zone by
    the page's script; an empty string for None."""
    if value is None or value == "":
        return Markup("")
    at = as_moment(value)
    shown = at.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " UTC"
    return Markup('<time datetime="{}" data-local="{}">{}</time>').format(
        at.isoformat().replace("+00:00", "Z"), "seconds" if seconds else "minutes", shown
    )


def time_tag(value: str | None) -> Markup:
    """`moment` for a service's RFC 3339 text; a text that is no time is shown as it is."""
    if not value:
        return Markup("")
    try:
        return moment(value)
    except ValueError:
        return Markup(escape(value))


def parse_time(value: str) -> datetime:
    """An RFC 3339 text as an aware datetime in UTC."""
    return as_moment(value)


def day(value: date | str) -> str:
    """A calendar day (a statement's start or end) as YYYY-MM-DD: a day, not a moment, so it is
    not moved into the viewer's zone."""
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def event_name(name: str | None) -> Markup:
    """An event's wire name in code type: the names are exact (PaymentCommited)."""
    return Markup("<code>{}</code>").format(escape(name or ""))


FILTERS: dict[str, Callable[..., Any]] = {
    "money": money,
    "signed_money": signed_money,
    "moment": moment,
    "time_tag": time_tag,
    "day": day,
    "event_name": event_name,
}
"""The filters templates use, by name: the bootstrap adds them to the Jinja environment."""
