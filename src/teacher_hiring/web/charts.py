"""The balance of an account over time, drawn on the server as inline SVG.

No script and no chart library: a step line (a balance holds until the next entry changes it),
the zero line when the balance crosses it, the lowest and highest balance and the first and last
day as labels. The SVG is an image with a title and a description a screen reader reads, and
the same figures follow as a table, so nothing is only in the picture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

from teacher_hiring.web.format import as_moment, moment, money, signed_money

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 16, 32


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime
    kind: str
    amount_cents: int
    balance_cents: int


def steps(points: Sequence[Mapping[str, Any]]) -> list[Step]:
    """bonus's balance-history points (at, kind, amount_cents, balance_cents), oldest first."""
    return [
        Step(as_moment(p["at"]), str(p["kind"]), int(p["amount_cents"]), int(p["balance_cents"]))
        for p in points
    ]


@dataclass(frozen=True, slots=True)
class _Frame:
    """Where a moment and an amount land inside the plotting area."""

    start: float
    span: float
    low: int
    high: int
    count: int

    def x(self, index: int, at: datetime) -> float:
        share = (
            (at.timestamp() - self.start) / self.span
            if self.span > 0
            else (index + 1) / (self.count + 1)
        )
        return LEFT + share * (WIDTH - LEFT - RIGHT)

    def y(self, cents: int) -> float:
        share = (cents - self.low) / (self.high - self.low)
        return HEIGHT - BOTTOM - share * (HEIGHT - TOP - BOTTOM)


def _frame(series: Sequence[Step], opening: int) -> _Frame:
    balances = [opening, 0, *(s.balance_cents for s in series)]
    low, high = min(balances), max(balances)
    if low == high:
        low, high = low - 100, high + 100
    start = series[0].at.timestamp()
    return _Frame(start, series[-1].at.timestamp() - start, low, high, len(series))


def _path(series: Sequence[Step], opening: int, frame: _Frame) -> str:
    x0 = LEFT
    moves = [f"M{x0:.1f},{frame.y(opening):.1f}"]
    for index, step in enumerate(series):
        x = frame.x(index, step.at)
        moves.append(f"H{x:.1f}V{frame.y(step.balance_cents):.1f}")
    moves.append(f"H{WIDTH - RIGHT:.1f}")
    return " ".join(moves)


def _label(x: float, y: float, text: str, anchor: str = "end") -> Markup:
    return Markup(
        '<text x="{:.1f}" y="{:.1f}" text-anchor="{}" font-size="12" fill="currentColor">{}</text>'
    ).format(x, y, anchor, text)


def describe(series: Sequence[Step], total: int | None = None) -> str:
    """The chart in one sentence, for its <desc> and its caption."""
    if not series:
        return "No entries yet: the balance is 0.00."
    balances = [s.balance_cents for s in series]
    first, last = series[0], series[-1]
    text = (
        f"{len(series)} entries from {first.at:%Y-%m-%d} to {last.at:%Y-%m-%d} UTC: the balance "
        f"went from {money(first.balance_cents - first.amount_cents)} to "
        f"{money(last.balance_cents)}, lowest {money(min(balances))}, highest "
        f"{money(max(balances))}."
    )
    if total is not None and total > len(series):
        text += f" The newest {len(series)} of {total} entries are shown."
    return text


def balance_svg(series: Sequence[Step], *, chart_id: str, total: int | None = None) -> Markup:
    """The step chart as an inline <svg role="img"> titled and described for screen readers."""
    title, desc = f"{chart_id}-title", f"{chart_id}-desc"
    head = Markup(
        '<svg id="{}" class="chart" role="img" aria-labelledby="{} {}" viewBox="0 0 {} {}" '
        'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}">Balance over time</title><desc id="{}">{}</desc>'
    ).format(chart_id, title, desc, WIDTH, HEIGHT, title, desc, describe(series, total))
    if not series:
        return head + Markup("</svg>")
    opening = series[0].balance_cents - series[0].amount_cents
    frame = _frame(series, opening)
    parts = [head]
    axis = Markup(
        '<path class="chart-axis" d="M{l},{t}V{b}H{r}" fill="none" stroke="currentColor" '
        'stroke-width="1"/>'
    ).format(l=LEFT, t=TOP, b=HEIGHT - BOTTOM, r=WIDTH - RIGHT)
    parts.append(axis)
    if frame.low < 0 < frame.high:
        zero = frame.y(0)
        parts.append(
            Markup(
                '<path class="chart-zero" d="M{},{:.1f}H{}" stroke="currentColor" '
                'stroke-dasharray="4 4" stroke-width="1"/>'
            ).format(LEFT, zero, WIDTH - RIGHT)
        )
        parts.append(_label(LEFT - 6, zero + 4, "0.00"))
    parts.append(_label(LEFT - 6, frame.y(frame.high) + 4, money(frame.high)))
    parts.append(_label(LEFT - 6, frame.y(frame.low) + 4, money(frame.low)))
    parts.append(
        Markup(
            '<path class="chart-line" d="{}" fill="none" stroke="currentColor" stroke-width="2"/>'
        ).format(_path(series, opening, frame))
    )
    for index, step in enumerate(series):
        parts.append(
            Markup('<circle class="chart-point chart-{}" cx="{:.1f}" cy="{:.1f}" r="3"/>').format(
                step.kind, frame.x(index, step.at), frame.y(step.balance_cents)
            )
        )
    bottom = HEIGHT - BOTTOM + 20
    parts.append(_label(LEFT, bottom, f"{series[0].at:%Y-%m-%d}", "start"))
    if len(series) > 1:
        parts.append(_label(WIDTH - RIGHT, bottom, f"{series[-1].at:%Y-%m-%d}", "end"))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def balance_table(series: Sequence[Step]) -> Markup:
    """The chart's figures as a table: each entry, its amount and the balance after it."""
    rows = Markup("").join(
        Markup(
            '<tr><td data-label="When">{}</td><td data-label="Entry">{}</td>'
            '<td class="number" data-label="Amount">{}</td>'
            '<td class="number" data-label="Balance">{}</td></tr>'
        ).format(
            moment(step.at), step.kind, signed_money(step.amount_cents), money(step.balance_cents)
        )
        for step in series
    )
    return Markup(
        '<table class="chart-table stack"><caption>Balance after each entry</caption>'
        '<thead><tr><th scope="col">When</th><th scope="col">Entry</th>'
        '<th scope="col" class="number">Amount</th><th scope="col" class="number">Balance</th></tr>'
        "</thead><tbody>{}</tbody></table>"
    ).format(rows)


def balance_figure(
    points: Sequence[Mapping[str, Any]],
    *,
    chart_id: str = "balance-chart",
    total: int | None = None,
) -> Markup:
    """The chart, its caption, and its table behind a disclosure: what a page includes."""
    series = steps(points)
    if not series:
        return Markup('<p class="chart-empty">{}</p>').format(describe(series))
    return Markup(
        '<figure class="chart-figure">{}<figcaption>{}</figcaption>'
        "<details><summary>The balance as a table</summary>{}</details></figure>"
    ).format(
        balance_svg(series, chart_id=chart_id, total=total),
        describe(series, total),
        balance_table(series),
    )
