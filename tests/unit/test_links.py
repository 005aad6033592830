"""The relay's choice of path for a switchable link, and the body of the synchronous call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from teacher_hiring.hiring.adapters.links import complication_link, leak_report
from teacher_hiring.messaging.sinks import OutboxRow
from teacher_hiring.runtime.db import dispose, make_engine
from teacher_hiring.runtime.flags import RuntimeFlags, metadata
from teacher_hiring.runtime.links import SwitchableLink


@pytest.fixture
def flags(tmp_path: Path) -> Iterator[RuntimeFlags]:
    engine = make_engine(f"sqlite:///{tmp_path}/flags.db")
    metadata.create_all(engine)
    yield RuntimeFlags(engine, {"link.complication": "event"}, ttl_s=0)
    dispose(engine)


@pytest.fixture
def link(flags: RuntimeFlags) -> Iterator[SwitchableLink]:
    made = complication_link(flags, "http://exercises.example/", timeout_s=1)
    yield made
    made.sink.close()


def test_only_the_links_event_takes_the_call_and_only_in_call_mode(link: SwitchableLink) -> None:
    assert link.route("ExerciseCompletedMoreThenTenTimes") is None  # event mode: the log

    link.switch("sync")

    assert link.route("ExerciseCompletedMoreThenTenTimes") is link.sink
    assert link.route("BonusAdded") is None
    assert link.sink.url == "http://exercises.example/api/complicate_exercise"  # type: ignore[attr-defined]


def test_a_mode_the_link_does_not_know_is_refused_and_the_old_one_stays(
    link: SwitchableLink,
) -> None:
    with pytest.raises(ValueError, match="mode: 'push' is not one of sync, event"):
        link.switch("push")
    assert link.mode == "event" and link.state().updated_at is None


def test_the_synchronous_body_is_the_payload_with_the_event_id() -> None:
    payload = {"exercise_id": "e-1", "title": "Sum", "author_id": "m-1", "candidate_id": "c-1"}
    envelope = {"event_id": "0b7e7c8e-0000-4000-8000-000000000001", "payload": payload}
    row = OutboxRow(
        1,
        envelope["event_id"],
        "ExerciseCompletedMoreThenTenTimes",
        "t",
        "e-1",
        json.dumps(envelope).encode(),
        "trace",
    )

    assert json.loads(leak_report(row)) == {**payload, "event_id": envelope["event_id"]}
