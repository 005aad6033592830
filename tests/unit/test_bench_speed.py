"""How bench/speed.py judges the platform's speed goals: pure logic on made-up runs, and the
ledger's drain read from a ledger's own timestamps."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest
from bench.lib import revisions
from bench.lib.headroom import Ladder
from bench.lib.load import Outcome, PhaseResult
from bench.speed import (
    HIGHER_IS_BETTER,
    Results,
    Run,
    figures,
    goals,
    ledger_rate,
    parse,
    raw_sqlite_rate,
    rows,
    throughput,
)


def phase(
    latencies: list[float], statuses: list[int] | None = None, seconds: float = 1.0
) -> PhaseResult:
    result = PhaseResult("row", 300)
    statuses = statuses or [200] * len(latencies)
    result.outcomes = [
        Outcome(i / 300, ms, status)
        for i, (ms, status) in enumerate(zip(latencies, statuses, strict=True))
    ]
    result.seconds = seconds
    return result


def run(
    up_p99: float,
    down_p99: float,
    drain: float = 2000.0,
    lag: float = 0.5,
    raw_cpu_ms: float = 1.0,
    sustained: tuple[float, float] = (1200.0, 2000.0),
) -> Run:
    """A made-up run; `sustained` is the platform's and the raw app's sustained rates."""
    up = phase([1.0] * 99 + [up_p99])
    down = phase([1.0] * 99 + [down_p99])
    platform, raw = (Ladder(sustained=rate) for rate in sustained)
    same_load = phase([0.5] * 100)
    return Run(
        up,
        down,
        {"hiring": 1.5},
        lag,
        4000,
        drain,
        2.0,
        100_000.0,
        same_load,
        raw_cpu_ms,
        platform,
        raw,
        50_000.0,
    )


def test_goals_are_judged_on_the_median_run() -> None:
    results = Results("make bench-speed", 300, 20, [run(9, 10), run(40, 45), run(12, 11)])
    by_name = {goal.name: goal for goal in goals(results)}
    p99 = next(g for name, g in by_name.items() if name.startswith("submission p99"))
    assert p99.measured == "12.0 ms" and p99.met
    ratio = next(g for name, g in by_name.items() if name.startswith("p99 with exercises"))
    assert ratio.measured == "1.11" and ratio.met  # the ratios 1.11, 1.12, 0.92


def test_a_slow_median_or_a_high_ratio_or_a_slow_ledger_is_missed() -> None:
    judged = goals(Results("c", 300, 20, [run(30, 90, drain=900, lag=20)]))
    speed, headroom = judged[:5], judged[5:]
    assert [g.name for g in speed if g.met] == ["errors (no answer or 5xx), either row = 0"]
    assert len(headroom) == 4


def test_the_headroom_goals_are_ratios_against_the_raw_app_in_the_same_run() -> None:
    held = goals(Results("c", 300, 20, [run(5, 5, drain=30_000)]))[5:]
    assert [(g.measured, g.met) for g in held] == [
        ("1.5×", True),  # hiring 1.5 ms of CPU a submission, the raw app 1.0 ms
        ("1,200/s", True),
        ("0.60", True),  # 1,200/s against the raw app's 2,000/s
        ("0.30", True),  # the ledger's 30,000 events/s against raw SQLite's 100,000 rows/s
    ]
    missed = goals(Results("c", 300, 20, [run(5, 5, raw_cpu_ms=0.5, sustained=(400.0, 1000.0))]))[
        5:
    ]
    assert [(g.measured, g.met) for g in missed] == [
        ("3.0×", False),
        ("400/s", False),
        ("0.40", False),
        ("0.02", False),
    ]


def test_an_error_in_either_row_misses_the_errors_goal() -> None:
    failing = run(5, 5)
    failing.both_down = phase([1.0] * 99 + [5.0], [200] * 99 + [503])
    errors = next(g for g in goals(Results("c", 300, 20, [failing])) if g.name.startswith("errors"))
    assert errors.measured == "1" and not errors.met


def test_throughput_counts_answers_only() -> None:
    assert throughput(phase([1.0, 1.0, 1.0, 1.0], [200, 409, 0, 200], seconds=2.0)) == 1.5
    assert math.isnan(throughput(phase([], [], seconds=0.0)))


def test_the_table_has_a_row_per_run_and_a_median_row_for_several() -> None:
    assert len(rows(Results("c", 300, 20, [run(9, 10)]))) == 3
    table = rows(Results("c", 300, 20, [run(9, 10), run(40, 45), run(12, 11)]))
    assert len(table) == 6
    assert table[-1].startswith("| median | 1.0 ms | 1.0 ms | 12.0 ms |")


def test_ledger_rate_spans_the_newest_entries_only(tmp_path: Path) -> None:
    database = tmp_path / "bonus.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, recorded_at TEXT)")
        # An old entry, then 11 entries 0.1 s apart: 10 intervals, 1 s.
        conn.execute("INSERT INTO ledger (recorded_at) VALUES ('2026-12-01T00:00:00.000000Z')")
        for n in range(11):
            conn.execute(
                "INSERT INTO ledger (recorded_at) VALUES (?)",
                (f"2026-12-02T10:00:0{n // 10}.{n % 10}00000Z",),
            )
    assert ledger_rate(database, 11) == 11.0


def test_raw_sqlite_writes_rows() -> None:
    assert raw_sqlite_rate(1200) > 0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--runs", "0"], "--runs must be at least 1, not 0"),
        (["--rate", "0"], "--rate must be positive, not 0"),
        (["--seconds", "-1"], "--seconds must be positive, not -1"),
        (["--warm-up", "-2"], "--warm-up must not be negative, not -2"),
    ],
)
def test_nonsense_flags_are_refused_naming_the_flag(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(flags)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_compared_revisions_take_turns_going_first() -> None:
    before = revisions.Tree(Path("/before"), "before")
    after = revisions.Tree(Path("/after"), "after")
    order = [(index, side) for index, side, _ in revisions.alternating(before, after, 3)]
    assert order == [
        (1, "before"),
        (1, "after"),
        (2, "after"),
        (2, "before"),
        (3, "before"),
        (3, "after"),
    ]


def test_a_comparison_shows_both_figures_and_the_ratio_of_after_to_before() -> None:
    before = figures(Results("c", 300, 20, [run(10, 10, drain=2000)]))
    after = figures(Results("c", 300, 20, [run(5, 5, drain=3000)]))
    better = {name: "higher" if name in HIGHER_IS_BETTER else "lower" for name in before}
    table = revisions.compared(before, after, better)
    assert len(table) == 2 + len(before)
    assert "| all up p99, ms | 10.00 | 5.00 | 0.50 | lower |" in table
    assert "| drain, events/s | 2,000.00 | 3,000.00 | 1.50 | higher |" in table
    assert "| errors, both rows | 0.00 | 0.00 | 1.00 | lower |" in table


def test_another_revision_is_checked_out_beside_this_tree_and_removed_after() -> None:
    with revisions.checked_out("HEAD") as tree:
        assert (tree.path / "src" / "teacher_hiring" / "__init__.py").is_file()
        assert tree.services_env()["PYTHONPATH"] == str(tree.path / "src")
        path = tree.path
    assert not path.exists()
    with pytest.raises(SystemExit), revisions.checked_out("no-such-revision"):
        pass
