"""The rule that holds a complication payment for review, and the review's decisions: pure."""

from __future__ import annotations

import pytest

from teacher_hiring.events.hiring import leak_v1_to_v2
from teacher_hiring.exercises.domain.errors import InvalidValue
from teacher_hiring.exercises.domain.reviews import (
    REASON_MAX,
    Completion,
    PaymentReview,
    ReviewAlreadyDecided,
    payment_evidence,
)

ANNA, BORIS = "anna", "boris"
HOME, SCHOOL = "a" * 32, "b" * 32


def mine(n: int) -> list[Completion]:
    return [Completion(f"mine-{i}", registered_by=ANNA) for i in range(n)]


def from_home(n: int) -> list[Completion]:
    return [Completion(f"home-{i}", origin=HOME) for i in range(n)]


def strangers(n: int) -> list[Completion]:
    return [Completion(f"s-{i}", registered_by=BORIS, origin=SCHOOL) for i in range(n)]


def test_more_than_half_registered_by_the_assignee_holds_the_payment() -> None:
    evidence = payment_evidence(mine(6) + strangers(5), ANNA, frozenset())
    assert (evidence.completions, evidence.own_completions) == (11, 6)
    assert evidence.registered_by_manager == 6 and evidence.held


def test_candidates_from_one_of_the_assignees_origins_are_their_own() -> None:
    evidence = payment_evidence(from_home(6) + strangers(5), ANNA, {HOME})
    assert (evidence.same_origin, evidence.own_completions, evidence.held) == (6, 6, True)
    assert not payment_evidence(from_home(6) + strangers(5), ANNA, frozenset()).held


def test_exactly_half_is_not_more_than_half_and_is_paid() -> None:
    assert not payment_evidence(mine(5) + strangers(5), ANNA, frozenset()).held
    assert payment_evidence(mine(3) + from_home(3) + strangers(5), ANNA, {HOME}).held


def test_a_candidate_both_registered_by_them_and_from_their_address_counts_once() -> None:
    both = [Completion(f"b-{i}", registered_by=ANNA, origin=HOME) for i in range(5)]
    evidence = payment_evidence(both + strangers(6), ANNA, {HOME})
    assert (evidence.registered_by_manager, evidence.same_origin) == (5, 5)
    assert evidence.own_completions == 5 and not evidence.held


def test_another_managers_candidates_and_unknown_origins_are_not_the_assignees() -> None:
    unknown = [Completion(f"u-{i}") for i in range(11)]
    assert payment_evidence(unknown, ANNA, {HOME}).own_completions == 0
    assert payment_evidence(strangers(11), ANNA, {HOME}).own_completions == 0
    assert payment_evidence(mine(11), BORIS, {HOME}).own_completions == 0


def test_a_report_without_evidence_holds_nothing() -> None:
    assert not payment_evidence([], ANNA, {HOME}).held


def test_a_v1_report_reads_as_one_without_evidence() -> None:
    v1 = {"exercise_id": "e", "exercise_version": 2, "title": "T", "author_id": ANNA}
    assert leak_v1_to_v2({**v1, "candidate_id": "c"}) == {
        **v1,
        "candidate_id": "c",
        "completed_by": [],
    }


REVIEW = PaymentReview("r1", "a1", ANNA, 3000, "e1", 2, 11, 6, 6, 0, held_at=1.0)


def test_approving_a_pending_review_records_who_and_when() -> None:
    approved = REVIEW.decided("approved", "alice", 5.0)
    assert approved is not None
    assert (approved.status, approved.decided_by, approved.decided_at) == ("approved", "alice", 5)
    assert approved.reason is None


def test_the_same_decision_again_changes_nothing() -> None:
    approved = REVIEW.decided("approved", "alice", 5.0)
    assert approved is not None and approved.decided("approved", "bob", 6.0) is None
    rejected = REVIEW.decided("rejected", "alice", 5.0, " farmed ")
    assert rejected is not None and rejected.reason == "farmed"
    assert rejected.decided("rejected", "bob", 6.0, "again") is None


def test_the_other_decision_once_taken_is_refused() -> None:
    approved = REVIEW.decided("approved", "alice", 5.0)
    rejected = REVIEW.decided("rejected", "alice", 5.0, "farmed")
    assert approved is not None and rejected is not None
    with pytest.raises(ReviewAlreadyDecided, match="approved already"):
        approved.decided("rejected", "bob", 6.0, "too late")
    with pytest.raises(ReviewAlreadyDecided, match="rejected already"):
        rejected.decided("approved", "bob", 6.0)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_rejection_says_why(reason: str | None) -> None:
    with pytest.raises(InvalidValue, match="reason"):
        REVIEW.decided("rejected", "alice", 5.0, reason)


def test_a_reason_has_a_bound() -> None:
    with pytest.raises(InvalidValue, match="reason"):
        REVIEW.decided("approved", "alice", 5.0, "x" * (REASON_MAX + 1))
