"""How the pages write money and times.

Money travels as integer minor units (cents) and is shown as 12.34. A time travels as RFC 3339
in UTC and is shown in a <time datetime="..."> element whose text is UTC; a small script
(static/site.js) rewrites the text in the viewer's own time zone, and without it UTC stays.
"""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup, escape


def money(cents: int | None) -> str:
    """12.34 from 1234; -5.00 from -500."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{part:02d}"


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def time_tag(value: str | None) -> Markup:
    """A <time> element: the moment in UTC as text, rewritten to local time in the browser."""
    if not value:
        return Markup("")
    try:
        moment = parse_time(value)
    except ValueError:
        return Markup(escape(value))
    iso = moment.isoformat().replace("+00:00", "Z")
    text = moment.strftime("%Y-%m-%d %H:%M UTC")
    return Markup(f'<time datetime="{escape(iso)}">{escape(text)}</time>')
