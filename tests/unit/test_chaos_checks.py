"""The chaos run's checks: what counts as lost, doubled or merely dead-lettered."""

from __future__ import annotations

from dataclasses import replace

from teacher_hiring.chaos.checks import (
    Accepted,
    DeadLetter,
    Money,
    Observed,
    Poisoned,
    Rating,
    Ratings,
    Stored,
    judge,
)

BONUS = Money("e1", "m1", 1050, "bonus:s1")
FINE = Money("e2", "m1", -500, "fine:s2")
PAYMENT = Money("e3", "m2", 3000, "payment:a1")


def clean() -> Observed:
    """A run where everything held: each issued sum once in the ledger, and so on."""
    return Observed(
        accepted=[
            Accepted("c1", "s1", "x1", 1, True),
            Accepted("c1", "s1", "x1", 1, True),  # the same verdict given again (a retry)
            Accepted("c2", "s0", "x1", 1, False),
        ],
        stored={"c1": [Stored("s1", "x1", 1, True)], "c2": [Stored("s0", "x1", 1, False)]},
        issued=[BONUS, FINE, PAYMENT],
        ledger=[BONUS, FINE, PAYMENT],
        balances={"m1": 550, "m2": 3000},
        dead_letters=[
            DeadLetter("money", "chaos-poison-1", "bonus", "invalid", None),
            DeadLetter("managers", "chaos-poison-2", "bonus", "invalid", None),
            DeadLetter("managers", "chaos-poison-2", "hiring", "invalid", None),
        ],
        poison=[
            Poisoned("money", "chaos-poison-1", "invalid-json", frozenset({"bonus"})),
            Poisoned("managers", "chaos-poison-2", "unknown-event", frozenset({"bonus", "hiring"})),
        ],
        exercise_versions={"x1": 2},
        replica_versions={"x1": 2},
        hiring_ratings={"x1": Ratings(4, {1: 50, 2: 0})},
        bonus_ratings={"x1": Rating(1, 50, 4)},
        candidate_statuses={"c1": "teacher"},
        replica_statuses={"c1": "teacher"},
        leaked=[("x1", 1)],
        assignments=[("x1", 1)],
    )


def failed(seen: Observed) -> dict[str, tuple[str, ...]]:
    return {r.name: r.violations for r in judge(seen).results if not r.ok}


def test_a_clean_run_passes_every_check_with_nothing_lost_or_doubled() -> None:
    verdict = judge(clean())
    assert verdict.ok, verdict.violations()
    assert (verdict.lost, verdict.doubled, verdict.money_dead_lettered) == (0, 0, 0)


def test_a_2xx_submission_hiring_does_not_hold_is_lost() -> None:
    seen = replace(clean(), stored={"c1": [Stored("s1", "x1", 1, True)], "c2": []})
    verdict = judge(seen)
    assert verdict.lost == 1
    assert list(failed(seen)) == ["every 2xx submission is stored"]


def test_a_submission_stored_with_another_verdict_is_a_violation_not_a_loss() -> None:
    seen = replace(
        clean(),
        stored={"c1": [Stored("s1", "x1", 1, False)], "c2": [Stored("s0", "x1", 1, False)]},
    )
    assert "every 2xx submission is stored" in failed(seen)
    assert judge(seen).lost == 0


def test_money_missing_from_the_ledger_is_lost_and_its_balance_is_wrong() -> None:
    seen = replace(clean(), ledger=[BONUS, PAYMENT], balances={"m1": 1050, "m2": 3000})
    verdict = judge(seen)
    assert verdict.lost == 1 and verdict.doubled == 0
    assert "issued money is in the ledger once, or dead-lettered" in failed(seen)
    assert "every balance is the sum of what was issued" in failed(seen)


def test_money_in_a_dead_letter_topic_is_not_lost_and_not_owed_in_the_balance() -> None:
    parked = DeadLetter("money", "m1", "bonus", "failed", FINE.event_id)
    seen = replace(
        clean(),
        ledger=[BONUS, PAYMENT],
        balances={"m1": 1050, "m2": 3000},
        dead_letters=[*clean().dead_letters, parked],
        differences=[("missing", FINE.event_id)],
    )
    verdict = judge(seen)
    assert verdict.ok, verdict.violations()
    assert (verdict.lost, verdict.money_dead_lettered) == (0, 1)


def test_poison_of_the_money_topic_is_no_dead_lettered_money() -> None:
    poison = DeadLetter("money", "", "bonus", "invalid", "not-issued-by-anyone")
    seen = replace(clean(), dead_letters=[*clean().dead_letters, poison])
    assert judge(seen).money_dead_lettered == 0


def test_the_same_money_twice_in_the_ledger_is_doubled() -> None:
    again = replace(BONUS, event_id="e9")  # re-emitted under a new event id
    seen = replace(clean(), ledger=[BONUS, again, FINE, PAYMENT], balances={"m1": 1600, "m2": 3000})
    verdict = judge(seen)
    assert verdict.doubled >= 1 and verdict.lost == 0
    assert "every balance is the sum of what was issued" in failed(seen)


def test_a_ledger_entry_nobody_issued_is_doubled_money() -> None:
    stray = Money("e7", "m2", 1000, "bonus:s7")
    seen = replace(clean(), ledger=[BONUS, FINE, PAYMENT, stray], balances={"m1": 550, "m2": 4000})
    assert judge(seen).doubled == 1
    assert "issued money is in the ledger once, or dead-lettered" in failed(seen)


def test_money_issued_twice_under_two_ids_and_booked_once_is_fine() -> None:
    reissued = replace(BONUS, event_id="e1-again")
    seen = replace(clean(), issued=[BONUS, reissued, FINE, PAYMENT])
    assert judge(seen).ok


def test_a_booked_amount_other_than_the_issued_one_is_a_violation() -> None:
    seen = replace(clean(), ledger=[replace(BONUS, amount_cents=1000), FINE, PAYMENT])
    assert "issued money is in the ledger once, or dead-lettered" in failed(seen)


def test_any_reconciliation_difference_other_than_dead_lettered_money_fails() -> None:
    seen = replace(clean(), differences=[("not_issued", "e7")])
    assert list(failed(seen)) == ["reconciliation finds no difference"]


def test_poison_not_dead_lettered_by_one_of_its_consumers_fails() -> None:
    seen = replace(clean(), dead_letters=clean().dead_letters[:2])
    violations = failed(seen)["poison sits in the dead-letter topics"]
    assert any("not dead-lettered by hiring" in v for v in violations)


def test_poison_dead_lettered_twice_after_a_redelivery_is_allowed() -> None:
    seen = replace(clean(), dead_letters=[*clean().dead_letters, clean().dead_letters[0]])
    assert judge(seen).ok


def test_a_replica_left_behind_by_a_late_duplicate_fails() -> None:
    older = replace(clean(), replica_versions={"x1": 1})
    assert list(failed(older)) == ["replicas agree after duplicates and reordering"]
    stale_rating = replace(clean(), bonus_ratings={"x1": Rating(1, 40, 3)})
    assert list(failed(stale_rating)) == ["replicas agree after duplicates and reordering"]
    status = replace(clean(), replica_statuses={"c1": "candidate"})
    assert list(failed(status)) == ["replicas agree after duplicates and reordering"]


def test_a_leak_reported_twice_opens_one_assignment_and_a_lost_report_none_is_caught() -> None:
    twice = replace(clean(), assignments=[("x1", 1), ("x1", 1)])
    assert list(failed(twice)) == ["each leaked version has one complication assignment"]
    none = replace(clean(), assignments=[])
    assert list(failed(none)) == ["each leaked version has one complication assignment"]
    unleaked = replace(clean(), assignments=[("x1", 1), ("x1", 2)])
    assert list(failed(unleaked)) == ["each leaked version has one complication assignment"]
