"""The old wiring as modes of the links: which path each event takes in each mode, what the
relay leaves to the requests, how a failed call answers, and the two presets."""

from __future__ import annotations

import importlib
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from teacher_hiring.exercises.adapters.links import exercise_updates_link, payment_link
from teacher_hiring.hiring.adapters.links import (
    answer_check_link,
    bonus_credit_link,
    complication_link,
    fine_debit_link,
)
from teacher_hiring.hiring.domain.errors import StaleExerciseVersion
from teacher_hiring.hiring.domain.model import AnswerKey, Exercise
from teacher_hiring.messaging.sinks import (
    HttpPushSink,
    PushFailed,
    PushRefused,
    PushTimedOut,
    PushUnreachable,
)
from teacher_hiring.runtime.db import dispose, make_engine
from teacher_hiring.runtime.flags import RuntimeFlags, metadata
from teacher_hiring.runtime.link_calls import CALL_ERRORS, call_failed
from teacher_hiring.runtime.links import (
    Switch,
    SwitchableLink,
    left_to_requests,
    request_window,
    router_of,
)
from teacher_hiring.runtime.wiring import OWNERS, PRESETS, setting_of, wiring_env

LINK_FLAGS = {
    "link.exercise-updates": "push",
    "link.payment": "event",
    "link.complication": "event",
    "link.bonus-credit": "event",
    "link.fine-debit": "event",
    "link.answer-check": "replica",
}


@pytest.fixture
def flags(tmp_path: Path) -> Iterator[RuntimeFlags]:
    engine = make_engine(f"sqlite:///{tmp_path}/flags.db")
    metadata.create_all(engine)
    yield RuntimeFlags(engine, LINK_FLAGS, ttl_s=0)
    dispose(engine)


@pytest.fixture
def every_link(flags: RuntimeFlags) -> Iterator[dict[str, Switch]]:
    """Every link as the services build it, by name."""
    built: list[Switch] = [
        exercise_updates_link(flags, "http://hiring.example", 1.0),
        payment_link(flags, "http://bonus.example", 0.5),
        complication_link(flags, "http://exercises.example", 0.5),
        bonus_credit_link(flags, "http://bonus.example/", 0.5),
        fine_debit_link(flags, "http://bonus.example", 0.5),
        answer_check_link(flags),
    ]
    yield {link.name: link for link in built}
    for link in built:
        if isinstance(link, SwitchableLink):
            link.sink.close()


MONEY_LINKS = [
    ("bonus-credit", "BonusAdded"),
    ("fine-debit", "FineAdded"),
    ("payment", "PaymentCommited"),
]


@pytest.mark.parametrize(("name", "event"), MONEY_LINKS)
def test_a_money_link_posts_only_its_event_to_bonus_and_only_in_sync_mode(
    every_link: dict[str, Switch], name: str, event: str
) -> None:
    link = every_link[name]
    assert isinstance(link, SwitchableLink)
    assert link.route(event) is None and not link.in_request  # event mode: the log

    link.switch("sync")

    assert link.route(event) is link.sink and link.in_request
    assert link.route("TaskRatingChanged") is None
    assert isinstance(link.sink, HttpPushSink)
    assert link.sink.url == "http://bonus.example/api/v0/money"
    assert link.sink.name == f"http-push:{name}"  # its own back-off and metrics


def test_the_relay_leaves_to_their_requests_only_the_events_of_links_calling_in_the_request(
    every_link: dict[str, Switch],
) -> None:
    produced = [link for link in every_link.values() if isinstance(link, SwitchableLink)]
    deferred = left_to_requests(produced)
    assert deferred() == {}  # every link in its default mode: push is relayed, the rest events

    every_link["bonus-credit"].switch("sync")
    every_link["complication"].switch("sync")

    window = request_window(0.5)
    assert deferred() == {"BonusAdded": window, "ExerciseCompletedMoreThenTenTimes": window}
    assert window > 0.5  # longer than the request's own call may take


def test_the_relay_sends_each_event_to_the_sink_of_the_link_that_calls_for_it(
    every_link: dict[str, Switch],
) -> None:
    bonus, fine = every_link["bonus-credit"], every_link["fine-debit"]
    assert isinstance(bonus, SwitchableLink) and isinstance(fine, SwitchableLink)
    route = router_of([bonus, fine])
    fine.switch("sync")

    assert route("FineAdded") is fine.sink
    assert route("BonusAdded") is None  # bonus-credit is still an event


def test_the_answer_check_reads_the_replica_or_calls_exercises_and_knows_no_other_mode(
    every_link: dict[str, Switch],
) -> None:
    read = every_link["answer-check"]
    assert (read.mode, read.modes) == ("replica", ("sync", "replica"))
    with pytest.raises(ValueError, match="mode: 'event' is not one of sync, replica"):
        read.switch("event")
    read.switch("sync")
    assert read.mode == "sync" and read.receiver == "exercises"


@pytest.mark.parametrize(
    ("problem", "status"),
    [
        (PushTimedOut("no answer within 0.5 s"), 504),
        (PushUnreachable("Connection refused"), 503),
        (PushRefused("HTTP 500", 500), 502),
        (PushFailed("something else"), 503),
    ],
)
def test_a_failed_call_answers_like_a_gateway_and_names_the_service(
    problem: Exception, status: int
) -> None:
    error = call_failed("bonus", problem, "the answer was stored", link="bonus-credit")

    assert CALL_ERRORS[type(error)] == status
    assert str(error).startswith("bonus: ") and str(error).endswith("the answer was stored")
    assert error.extra == {"service": "bonus", "link": "bonus-credit"}


def settings_field(link: str) -> Any:
    """The field of the link's owner's settings that its mode starts from."""
    owner = OWNERS[link]
    settings_module = importlib.import_module(f"teacher_hiring.{owner}.settings")
    settings: Any = next(
        value
        for name, value in vars(settings_module).items()
        if name.endswith("Settings") and name != "ServiceSettings"
    )
    return settings.model_fields[setting_of(link).removeprefix(f"{owner.upper()}_").lower()]


def test_before_is_the_old_wiring_and_after_the_new_for_every_link(
    every_link: dict[str, Switch],
) -> None:
    """The presets, read from links.yaml, against the links as the services build them."""
    assert set(PRESETS["before"]) == set(PRESETS["after"]) == set(OWNERS) == set(every_link)
    for name, link in every_link.items():
        old, new = PRESETS["before"][name], PRESETS["after"][name]
        assert {old, new} <= set(link.modes), name
        assert old == link.modes[0], name  # the call mode, where the link has one
        assert settings_field(name).default == new, name  # a new deployment starts in `after`
        assert LINK_FLAGS[link.flag_name] == new
        if name != "exercise-updates":  # push in both: see runtime.wiring
            assert old != new, name  # the call, then the event or replica


def test_a_preset_switches_hirings_links_before_exercises() -> None:
    owners = [OWNERS[name] for name in PRESETS["after"]]
    assert owners == sorted(owners, key=lambda owner: owner != "hiring")
    assert list(PRESETS["before"]) == list(PRESETS["after"])


@pytest.mark.parametrize("link", sorted(OWNERS))
def test_each_links_setting_exists_on_its_owner_and_takes_both_wirings(link: str) -> None:
    declared = settings_field(link).annotation
    assert {PRESETS["before"][link], PRESETS["after"][link]} <= set(typing.get_args(declared))
    assert wiring_env("before")[setting_of(link)] == PRESETS["before"][link]


EXERCISE = Exercise("e-1", "Sum", "m-1", 2, ("42",), "exact")


def test_exercises_answers_replace_the_replicas_for_the_check() -> None:
    checked = EXERCISE.checked_by(AnswerKey(2, ("Forty two",), "normalized"))

    assert checked.accepts(" forty  TWO ") and not checked.accepts("42")
    assert (checked.exercise_id, checked.version, checked.author_id) == ("e-1", 2, "m-1")


@pytest.mark.parametrize("version_at_exercises", [1, 3])
def test_exercises_at_another_version_than_the_replica_makes_the_answer_stale(
    version_at_exercises: int,
) -> None:
    with pytest.raises(StaleExerciseVersion, match="exercise_version: 2 is not the current") as e:
        EXERCISE.checked_by(AnswerKey(version_at_exercises, ("42",), "exact"))
    assert e.value.extra == {"current_version": version_at_exercises}
