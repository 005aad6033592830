"""How the bench turns what it observed into figures and verdicts (bench/lib/load.py,
bench/lib/problems.py, bench/lib/results.py, bench/lib/report.py): pure logic on made-up
observations."""

from __future__ import annotations

import math

import pytest
from bench.lib import problems, report
from bench.lib.load import Outcome, PhaseResult, percentile
from bench.lib.problems import Capacity, Outage, Sample, WiringRun, _drain, ledger_faults
from bench.lib.results import Results, goals


def phase(name: str, latencies: list[float], statuses: list[int], rate: float = 300) -> PhaseResult:
    result = PhaseResult(name, rate)
    result.outcomes = [
        Outcome(i / rate, ms, status)
        for i, (ms, status) in enumerate(zip(latencies, statuses, strict=True))
    ]
    return result


def reconciliation(issued: int, ledger: int, **by_kind: int) -> dict[str, object]:
    return {
        "summary": {
            "issued_count": issued,
            "ledger_count": ledger,
            "by_kind": {"missing": 0, "not_issued": 0, "other_event_id": 0, **by_kind},
        }
    }


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 51
    assert percentile(values, 99) == 100
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def test_errors_are_no_answer_and_5xx_not_4xx() -> None:
    result = phase("p", [1, 2, 3, 4, 5], [200, 409, 0, 503, 504])
    assert result.errors == 3
    assert result.error_rate == 3 / 5
    assert result.statuses() == {0: 1, 200: 1, 409: 1, 503: 1, 504: 1}
    assert result.latencies_ms == [1, 2, 3, 4, 5]


def test_ledger_faults_counts_losses_and_entries_beyond_what_was_issued() -> None:
    assert ledger_faults(reconciliation(100, 100)) == (0, 0)
    assert ledger_faults(reconciliation(100, 97, missing=3)) == (0, 3)
    assert ledger_faults(reconciliation(100, 102, not_issued=2)) == (2, 0)
    assert ledger_faults(reconciliation(100, 101)) == (1, 0)


def test_drain_runs_from_the_last_sample_before_booking_again_to_the_usual_lag() -> None:
    # 100 money events/s issued; bonus down from t=2 to t=5; it books 1,000/s once back.
    samples = [Sample(t / 10, 10 * t, 10 * t - 3) for t in range(0, 20)]  # lag 3 before
    samples += [Sample(t / 10, 10 * t, None) for t in range(20, 55)]
    booked = 10 * 19 - 3
    for t in range(55, 120):
        booked = min(10 * t - 3, booked + 100) if t > 55 else booked
        samples.append(Sample(t / 10, 10 * t, booked))
    result = Outage(100, 3, phase("o", [1], [200]), samples, 2.0, 5.0, 5.4)
    _drain(result, load_ended=11.9)
    first_booking = next(s for s in samples if s.t >= 5.0 and (s.booked or 0) > 187)
    assert first_booking.t == 5.6
    assert result.backlog == first_booking.issued - 187
    end = next(s for s in samples if s.t > 5.6 and s.issued - (s.booked or 0) <= 5)
    assert math.isclose(result.drain_s, end.t - 5.5)
    assert result.drained == (end.booked or 0) - 187
    assert math.isclose(result.arrival_rate, 100, rel_tol=1e-6)
    assert result.drain_rate > 5 * result.arrival_rate


def test_drain_is_unknown_while_bonus_never_booked_again() -> None:
    samples = [Sample(t / 10, 10 * t, 10 * t) for t in range(0, 20)]
    samples += [Sample(t / 10, 10 * t, None) for t in range(20, 60)]
    result = Outage(100, 3, phase("o", [1], [200]), samples, 2.0, 5.0, 5.4)
    _drain(result, load_ended=6.0)
    assert math.isnan(result.drain_s)
    assert math.isnan(result.drain_rate)


def test_goals_compare_after_with_before_and_judge_each() -> None:
    fast, slow = [2.0] * 100, [400.0] * 100
    before = WiringRun("before", submissions_all_up=100)
    before.phases = {
        "all up": phase("b", slow, [200] * 100),
        "bonus down": phase("b", slow, [503] * 100),
        "exercises down": phase("b", slow, [503] * 100),
    }
    before.exercises_calls = {"GET /exercises/{exercise_id}": 100}
    before.reconciliation = reconciliation(70, 70)
    after = WiringRun("after", submissions_all_up=100)
    after.phases = {
        "all up": phase("a", fast, [200] * 100),
        "bonus down": phase("a", fast, [200] * 100),
        "exercises down": phase("a", fast, [200] * 99 + [502]),
    }
    after.reconciliation = reconciliation(70, 69, missing=1)
    results = Results("make bench", "embedded", 300, 4, latency=[before, after])
    verdicts = {g.name: g.met for g in goals(results)}
    assert verdicts["after p99 at 300 submissions/s ≤ 1/5 of before's"] is True
    assert verdicts["after error rate with bonus down = 0 (before fails)"] is True
    assert verdicts["after error rate with exercises down = 0 (before fails)"] is False
    assert verdicts["exercises calls per 1,000 submissions, after = 0"] is True
    assert verdicts["ledger duplicates and losses, after"] is False
    assert verdicts["ledger duplicates and losses, before"] is None


def test_capacity_steps_up_then_halves_the_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    # A server whose p99 crosses 50 ms above 260 requests/s.
    def fake_open_loop(_url: str, work: list[int], rate: float, name: str) -> PhaseResult:
        latency = 10.0 if rate <= 260 else 80.0
        return phase(name, [latency] * len(work), [200] * len(work), rate)

    class Target:
        def url(self, _service: str) -> str:
            return "http://hiring"

        def settle(self) -> float:
            return 0.0

    class Work:
        def take(self, count: int) -> list[int]:
            return [0] * count

    monkeypatch.setattr(problems, "open_loop", fake_open_loop)
    result = problems.capacity(Target(), Work(), [100, 200, 300, 400], 1, 50)  # type: ignore[arg-type]
    assert [step.rate for step in result.steps] == [100, 200, 250, 275, 300]
    assert result.sustained == 250


def test_cpu_per_submission_is_tabled_with_the_cores_it_takes_at_the_rate() -> None:
    before = WiringRun("before", cpu_ms={"hiring": 2.5, "bonus": 1.0, "load generator": 0.5})
    after = WiringRun("after", cpu_ms={"hiring": 3.0, "bonus": 0.5, "load generator": 0.5})
    results = Results("make bench", "embedded", 300, 4, latency=[before, after])

    table = [line for line in report._cpu_lines(results) if line.startswith("| ")]

    assert table[0] == "| wiring | hiring | bonus | load generator | all | cores at the rate |"
    assert table[1] == "| before | 2.50 | 1.00 | 0.50 | 4.00 | 1.20 |"
    assert table[2] == "| after | 3.00 | 0.50 | 0.50 | 4.00 | 1.20 |"


def test_no_cpu_table_without_cpu_figures() -> None:
    assert report._cpu_lines(Results("make bench", "embedded", 300, 4)) == []


def test_a_queue_at_the_offered_rate_is_explained_by_the_cpu_a_submission_costs() -> None:
    after = WiringRun("after", cpu_ms={"hiring": 3.0, "bonus": 0.5, "load generator": 0.5})
    after.phases = {"all up": phase("a", [200.0] * 100, [200] * 100)}
    results = Results("make bench", "embedded", 300, 4, latency=[after])
    results.capacity = Capacity(sustained=125)

    text = "\n".join(report._goals_section(results))

    assert "**Why `after`'s p99 at 300/s is over 50 ms.**" in text
    assert "up to 125/s only" in text
    assert "4.0 ms of CPU in all" in text and "0.90 cores for hiring" in text


def test_no_queue_to_explain_when_after_holds_the_rate() -> None:
    after = WiringRun("after", cpu_ms={"hiring": 3.0})
    after.phases = {"all up": phase("a", [20.0] * 100, [200] * 100)}
    results = Results("make bench", "embedded", 300, 4, latency=[after])
    results.capacity = Capacity(sustained=300)

    assert "Why" not in "\n".join(report._goals_section(results))


def test_after_slower_with_a_service_down_is_said() -> None:
    after = WiringRun("after")
    after.phases = {
        "all up": phase("a", [10.0] * 100, [200] * 100),
        "bonus down": phase("a", [500.0] * 100, [200] * 100),
        "exercises down": phase("a", [12.0] * 100, [200] * 100),
    }
    results = Results("make bench", "embedded", 300, 4, latency=[after])

    said = "\n".join(report._slower_when_down(results))

    assert "slower with a service down" in said
    assert "bonus down (p99 500.0 ms)" in said
    assert "exercises down" not in said

    after.phases["bonus down"] = phase("a", [15.0] * 100, [200] * 100)
    assert report._slower_when_down(results) == []
