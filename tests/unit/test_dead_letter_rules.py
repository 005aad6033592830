"""The rules of the dead-letter tools: ids, what a dead letter says, what a replay and a purge
would do with it."""

from __future__ import annotations

import orjson
import pytest
from event_examples import example_payload

from teacher_hiring.messaging.dead_letter_rules import (
    BadRequest,
    DeadLetter,
    Order,
    Outcome,
    Status,
    Tracked,
    decide,
    ordered,
    parse_id,
    plan_purge,
    still_invalid,
)
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.transport import Record
from teacher_hiring.messaging.wire import RecordCodec

REGISTRY = SchemaRegistry.load()


def runner_headers(**overrides: str) -> dict[str, str]:
    return {
        "trace": "t-1",
        "dlq_reason": "failed",
        "dlq_error": "RuntimeError: the directory does not answer",
        "dlq_consumer": "bonus.managers",
        "dlq_service": "bonus",
        "dlq_attempts": "5",
        "original_topic": "managers",
        "original_partition": "2",
        "original_offset": "41",
        "dead_lettered_at": "1700000000.5",
        **overrides,
    }


def event(version: int = 0, **payload: object) -> Envelope:
    body = {**example_payload("ManagerCreated", version), **payload}
    return Envelope.new("ManagerCreated", version, body, producer="exercises")


def letter(
    value: bytes | None = None, partition: int = 0, offset: int = 0, **headers: str
) -> DeadLetter:
    """A dead letter of the record layout before messaging.wire (the whole envelope in the
    body), which the tools still read; `laid_out` makes one of today's layout."""
    raw = event().to_json() if value is None else value
    record = Record("managers.dlq", partition, offset, "m-1", raw, runner_headers(**headers), 1)
    return DeadLetter.from_record("managers", record, REGISTRY)


def laid_out(original: Envelope) -> DeadLetter:
    body, event_headers = RecordCodec(REGISTRY).encode(original)
    record = Record("managers.dlq", 0, 0, "m-1", body, runner_headers(**event_headers), 1)
    return DeadLetter.from_record("managers", record, REGISTRY)


@pytest.mark.parametrize(("text", "expected"), [("0:12", (0, 12)), (" 3:4 ", (3, 4))])
def test_a_dead_letter_id_is_partition_colon_offset(text: str, expected: tuple[int, int]) -> None:
    assert parse_id(text) == expected


@pytest.mark.parametrize(
    "text", ["1-2", ":3", "a:1", "-1:2", "1:", "1:2:3", "", "²:1", "1:" + "9" * 19, "0:1 2"]
)
def test_a_malformed_id_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(BadRequest, match=r"^up_to: .* is not <partition>:<offset>"):
        parse_id(text, "up_to")


def test_a_dead_letter_tells_who_dead_lettered_it_why_and_when() -> None:
    original = event()
    dead = letter(original.to_json(), partition=1, offset=7)
    assert dead.id == "1:7"
    assert (dead.consumer, dead.service, dead.reason, dead.attempts) == (
        "bonus.managers",
        "bonus",
        "failed",
        5,
    )
    assert "does not answer" in dead.error
    assert dead.dead_lettered_at == 1700000000.5
    assert (dead.original_partition, dead.original_offset) == (2, 41)
    assert dead.envelope == original and dead.parse_error is None
    assert (dead.event_id, dead.event_name) == (original.event_id, "ManagerCreated")


def test_a_dead_letter_of_todays_layout_reads_its_event_from_body_and_headers() -> None:
    original = event()
    dead = laid_out(original)
    assert dead.envelope == original and dead.parse_error is None
    assert orjson.loads(dead.value) == original.payload
    assert dead.replay_headers("managers.dlq")["ce_id"] == original.event_id


def test_bytes_that_are_no_envelope_are_kept_raw_with_the_reason() -> None:
    dead = letter(b"{not json", dlq_reason="invalid")
    assert dead.envelope is None and dead.event_id is None
    assert dead.parse_error is not None and "not valid JSON" in dead.parse_error
    assert dead.value == b"{not json"


@pytest.mark.parametrize("stamp", ["nan", "inf", "soon"])
def test_a_time_that_is_no_finite_number_falls_back_to_the_records(stamp: str) -> None:
    assert letter(dead_lettered_at=stamp, dlq_attempts="many").dead_lettered_at == 0.001
    assert letter(dlq_attempts="many").attempts is None


def test_without_the_runners_time_the_records_time_is_when() -> None:
    record = Record("managers.dlq", 0, 0, "k", b"x", {"dlq_reason": "invalid"}, 1_700_000_000_250)
    dead = DeadLetter.from_record("managers", record, REGISTRY)
    assert dead.dead_lettered_at == 1_700_000_000.25
    assert dead.attempts is None and dead.consumer == ""


def test_a_replay_sends_the_original_headers_and_says_where_it_came_from() -> None:
    assert letter(partition=2, offset=9).replay_headers("managers.dlq") == {
        "trace": "t-1",
        "replayed_from": "managers.dlq:2:9",
    }


def test_the_digest_tells_apart_two_records_at_the_same_place() -> None:
    value = event().to_json()
    assert letter(value).digest == letter(value).digest
    assert letter(value).digest != letter(value, dead_lettered_at="1700000001.0").digest
    assert letter(value).digest != letter(event().to_json()).digest


def test_applied_wins_over_replayed_which_wins_over_pending() -> None:
    dead = letter()
    assert Tracked(dead).status is Status.PENDING
    assert Tracked(dead, replayed_at=1.0).status is Status.REPLAYED
    assert Tracked(dead, replayed_at=1.0, applied=True).status is Status.APPLIED


def test_a_valid_event_its_handler_reads_is_not_invalid() -> None:
    assert still_invalid(letter(), REGISTRY, {"ManagerCreated": 1}) is None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (b"[1, 2]", "JSON object"),
        (orjson.dumps({**event().as_dict(), "payload": {"manager_id": 5}}), "manager_id"),
        (orjson.dumps({**event().as_dict(), "event_name": "NoSuchEvent"}), "NoSuchEvent"),
    ],
)
def test_what_the_consumer_would_refuse_again_is_still_invalid(value: bytes, why: str) -> None:
    problem = still_invalid(letter(value), REGISTRY, {"ManagerCreated": 1})
    assert problem is not None and why in problem


def test_a_version_newer_than_the_handler_reads_is_still_invalid() -> None:
    problem = still_invalid(letter(event(1).to_json()), REGISTRY, {"ManagerCreated": 0})
    assert problem == "ManagerCreated v1 is newer than bonus.managers reads (v0)"


@pytest.mark.parametrize(
    ("tracked", "problem", "outcome"),
    [
        (Tracked(letter()), None, Outcome.WOULD_APPLY),
        (Tracked(letter(), replayed_at=5.0), None, Outcome.ALREADY_REPLAYED),
        (Tracked(letter(), applied=True), None, Outcome.ALREADY_APPLIED),
        (Tracked(letter()), "payload.email: 42 is not a string", Outcome.STILL_INVALID),
    ],
)
def test_a_dry_run_says_what_would_happen(
    tracked: Tracked, problem: str | None, outcome: Outcome
) -> None:
    decision = decide(tracked, problem, {"ManagerCreated"})
    assert decision.outcome is outcome
    assert decision.publishes is (outcome is Outcome.WOULD_APPLY)


def test_an_event_the_group_does_not_handle_would_not_be_published() -> None:
    decision = decide(Tracked(letter()), None, {"ManagerUpdated"})
    assert decision.outcome is Outcome.NOT_HANDLED and not decision.publishes
    assert "bonus.managers does not handle ManagerCreated" in decision.detail


def test_dead_letters_come_newest_first_or_by_offset() -> None:
    old = Tracked(letter(partition=1, offset=0, dead_lettered_at="100"))
    new = Tracked(letter(partition=0, offset=3, dead_lettered_at="200"))
    assert ordered([old, new], Order.NEWEST) == [new, old]
    assert ordered([old, new], Order.OFFSET) == [new, old]
    older = Tracked(letter(partition=0, offset=1, dead_lettered_at="300"))
    assert ordered([new, older], Order.OFFSET) == [older, new]


def test_a_purge_through_an_id_drops_its_partition_up_to_it_and_nothing_else() -> None:
    replayed = Tracked(letter(partition=0, offset=0), replayed_at=1.0)
    applied = Tracked(letter(partition=0, offset=1), applied=True)
    pending = Tracked(letter(partition=0, offset=2))
    elsewhere = Tracked(letter(partition=1, offset=0))
    plan = plan_purge([replayed, applied, pending, elsewhere], [], {0: 3, 1: 1}, (0, 1))
    assert plan.before == {0: 2}
    assert [d.id for d in plan.purged] == ["0:0", "0:1"]
    assert plan.unhandled == []


def test_a_purge_over_pending_or_foreign_dead_letters_lists_them() -> None:
    pending = Tracked(letter(partition=0, offset=0, dlq_reason="invalid"))
    theirs = letter(partition=1, offset=0, dlq_consumer="hiring.managers")
    plan = plan_purge([pending], [theirs], {0: 1, 1: 1, 2: 0}, None)
    assert plan.before == {0: 1, 1: 1}
    assert plan.unhandled == [
        "0:0 (bonus.managers, invalid): neither replayed nor applied",
        "1:0 (hiring.managers): another service's dead letter",
    ]


@pytest.mark.parametrize(
    ("up_to", "message"),
    [
        ((4, 0), r"^up_to: partition 4 does not exist \(partitions: 0, 1\)"),
        ((1, 2), r"^up_to: offset 2 is past the last dead letter of partition 1"),
    ],
)
def test_a_purge_beyond_the_topic_is_refused_naming_the_field(
    up_to: tuple[int, int], message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        plan_purge([], [], {0: 1, 1: 2}, up_to)
