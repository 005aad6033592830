"""The balance chart: an SVG image with its description, and the same figures as a table."""

from __future__ import annotations

import re
from typing import Any

from teacher_hiring.web.charts import HEIGHT, balance_figure, balance_svg, describe, steps


def point(at: str, kind: str, amount: int, balance: int) -> dict[str, Any]:
    return {"at": at, "kind": kind, "amount_cents": amount, "balance_cents": balance}


HISTORY = [
    point("2025-03-01T08:00:00.000000Z", "bonus", 1000, 1000),
    point("2025-03-02T08:00:00.000000Z", "fine", -1500, -500),
    point("2025-03-04T08:00:00.000000Z", "payment", 3000, 2500),
]


def test_the_chart_is_an_image_described_in_words() -> None:
    svg = balance_svg(steps(HISTORY), chart_id="c")

    assert re.search(r'<svg id="c" class="chart" role="img" aria-labelledby="c-title c-desc"', svg)
    assert '<title id="c-title">Balance over time</title>' in svg
    assert (
        "3 entries from 2025-03-01 to 2025-03-04 UTC: the balance went from 0.00 to 25.00, "
        "lowest -5.00, highest 25.00." in svg
    )


def test_the_line_steps_through_every_balance_and_the_zero_line_is_drawn_when_crossed() -> None:
    svg = balance_svg(steps(HISTORY), chart_id="c")

    line = re.search(r'class="chart-line" d="([^"]+)"', svg)
    assert line is not None
    heights = [float(v) for v in re.findall(r"V([\d.]+)", line.group(1))]
    assert len(heights) == 3
    assert heights[1] > heights[0] > heights[2]  # -5.00 is lowest on the page, 25.00 highest
    assert 'class="chart-zero"' in svg
    assert len(re.findall(r'class="chart-point', svg)) == 3
    for label in ("25.00", "-5.00", "0.00", "2025-03-01", "2025-03-04"):
        assert f">{label}</text>" in svg


def test_points_stay_inside_the_picture_when_every_entry_has_the_same_moment() -> None:
    same = [point("2025-03-01T08:00:00Z", "bonus", 1000, 1000 * (i + 1)) for i in range(3)]
    svg = balance_svg(steps(same), chart_id="c")

    xs = [float(x) for x in re.findall(r'cx="([\d.]+)"', svg)]
    ys = [float(y) for y in re.findall(r'cy="([\d.]+)"', svg)]
    assert xs == sorted(xs) and len(set(xs)) == 3
    assert all(0 <= y <= HEIGHT for y in ys)


def test_the_figure_has_the_same_figures_as_a_table() -> None:
    figure = balance_figure(HISTORY, total=10)

    assert "<summary>The balance as a table</summary>" in figure
    assert re.findall(r'<td class="number" data-label="\w+">([^<]+)</td>', figure) == [
        "+10.00",
        "10.00",
        "-15.00",
        "-5.00",
        "+30.00",
        "25.00",
    ]
    assert "The newest 3 of 10 entries are shown." in figure


def test_no_entries_is_a_sentence_not_an_empty_picture() -> None:
    assert describe([]) == "No entries yet: the balance is 0.00."
    assert balance_figure([]) == '<p class="chart-empty">No entries yet: the balance is 0.00.</p>'
