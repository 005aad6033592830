"""The four link migrations of the second document, each done under traffic by flipping the
link's mode at run time, with nothing lost and nothing applied twice.

Formal link: exercise streaming, ExerciseUpdated pushed to hiring (sync) or as an event.
Functional link: COMM-030, ExerciseCompletedMoreThenTenTimes as an event or by hiring's call
to POST /api/complicate_exercise on exercises (sync).

The old wiring as a whole: `teacher-hiring links preset before|after` switches every link at
once (COMM-020 answer checks, COMM-030 leak reports, COMM-040/050 bonuses and fines, COMM-080
payments, from events and replicas to calls inside the requests, or back).

Every round of traffic uses every link: eleven candidates solve each of three exercises (each
completion pays a bonus, the 11th a fine and reports the version to exercises, which opens an
assignment), then the author saves a harder version of each (ExerciseUpdated to hiring, a
payment to the author). The flip happens in the middle of a round, while relays and consumers
are busy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from e2e.platform_api import Api, eventually
from integration.credentials import OPERATOR_AUTH
from teacher_hiring.cli import app
from teacher_hiring.messaging.tables import inbox, outbox
from teacher_hiring.runtime.processes import Platform
from teacher_hiring.runtime.transports import make_transport
from teacher_hiring.runtime.wiring import PRESETS, apply

pytestmark = pytest.mark.e2e

EXERCISES = 3
SOLVERS = 11  # the 11th completion of a version reports it (SPEC section 3)
ROUNDS = 4
FLIP_IN_ROUND = 2

LINKS = {
    # link: (the service that owns its flag, the event it carries, the topic, the receiver,
    #        how many of its events one round makes)
    "exercise-updates": ("exercises", "ExerciseUpdated", "exercises", "hiring", EXERCISES),
    "complication": (
        "hiring",
        "ExerciseCompletedMoreThenTenTimes",
        "exercise-completions",
        "exercises",
        EXERCISES,
    ),
    "bonus-credit": ("hiring", "BonusAdded", "money", "bonus", EXERCISES * 10),
    "fine-debit": ("hiring", "FineAdded", "money", "bonus", EXERCISES * (SOLVERS - 10)),
    "payment": ("exercises", "PaymentCommited", "payments", "bonus", EXERCISES),
}
PRESET = "preset"  # not a link: every link at once, to its mode in the wiring named
MIGRATIONS = [
    pytest.param("exercise-updates", "push", "event", id="formal-sync-to-async"),
    pytest.param("exercise-updates", "event", "push", id="formal-async-to-sync"),
    pytest.param("complication", "sync", "event", id="functional-sync-to-async"),
    pytest.param("complication", "event", "sync", id="functional-async-to-sync"),
    # Every link at once, there and back: to `after` in round 2, to `before` again in round 3.
    pytest.param(PRESET, "before", "after", id="old-wiring-to-new-and-back"),
]
CHECK_ROUTE = "/exercises/{exercise_id}"  # COMM-020 in sync mode reads the exercise here


def set_mode(api: Api, link: str, mode: str) -> None:
    if link == PRESET:
        urls = {name: api.platform[name].url for name in ("exercises", "hiring")}
        states = apply("before" if mode == "before" else "after", urls, auth=OPERATOR_AUTH)
        assert {s["link"]: s["mode"] for s in states} == PRESETS[mode]
        return
    owner = LINKS[link][0]
    state = api.ok("PUT", owner, f"/operator/links/{link}", json={"mode": mode})
    assert state["mode"] == mode


def schedule(link: str, before: str, after: str) -> dict[int, str]:
    """In which rounds the flips happen, and to which mode: a preset flips there and back."""
    if link == PRESET:
        return {FLIP_IN_ROUND: after, FLIP_IN_ROUND + 1: before}
    return {FLIP_IN_ROUND + 1: after}


def flipped(link: str, before: str, after: str) -> list[str]:
    """The links with an event whose mode the flip changes."""
    if link != PRESET:
        return [link]
    return [name for name in LINKS if PRESETS[before][name] != PRESETS[after][name]]


def calls_received(api: Api, service: str, route: str) -> float:
    """`http_requests_total` of GET on one route, read from the service's /metrics."""
    text = api.call("GET", service, "/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "http_requests_total"
        and (sample.labels.get("method"), sample.labels.get("route")) == ("GET", route)
    )


def event_ids(platform: Platform, service: str, table: sa.Table, event_name: str) -> list[str]:
    """Event ids of one name in a service's outbox (staged) or inbox (applied), read from its
    database: the test's own view, not the service's word."""
    engine = sa.create_engine(platform.deployment.database_url(service), poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            query = sa.select(table.c.event_id).where(table.c.event_name == event_name)
            return [str(event_id) for event_id in conn.execute(query).scalars()]
    finally:
        engine.dispose()


def logged_ids(platform: Platform, topic: str, event_name: str) -> set[str]:
    """Event ids of one name that went through the event log (Kafka or the embedded log)."""
    deployment = platform.deployment
    transport = make_transport(
        deployment.event_log_url(),
        partitions=deployment.partitions,
        topic_prefix=deployment.topic_prefix,
    )
    try:
        records = [
            record
            for partition in range(transport.partitions_for(topic))
            for record in transport.read(topic, partition, 0, 100_000)
        ]
    finally:
        transport.close()
    return {r.headers["ce_id"] for r in records if r.headers.get("ce_type") == event_name}


def one_round(
    api: Api, answers: dict[str, str], author: str, version: int, flip: Callable[[], None] | None
) -> int:
    """One round of traffic; returns how many submissions it made before the flip."""
    candidates = [api.candidate(f"Round {version} solver {n}") for n in range(SOLVERS)]
    before_flip = SOLVERS * EXERCISES
    for n, candidate in enumerate(candidates):
        if flip is not None and n == SOLVERS // 2:
            flip()
            before_flip = n * EXERCISES
        for exercise in candidate["exercises"]:
            assert exercise["version"] == version, exercise
            response = api.submit(
                candidate["id"], exercise["exercise_id"], version, answers[exercise["exercise_id"]]
            )
            assert response.status_code == 200, response.text
            assert response.json()["correct"] is True

    def reported() -> list[dict[str, object]] | None:
        open_ = api.ok("GET", "exercises", "/assignments", params={"status": "open"})
        return open_ if len(open_) == EXERCISES else None

    for assignment in eventually(
        reported, what=f"round {version}: every version reported", timeout_s=60
    ):
        assert assignment["assignee_id"] == author
        edit = {"editor_id": author, "statement": f"Harder, version {version + 1}"}
        saved = api.ok("PUT", "exercises", f"/exercises/{assignment['exercise_id']}", json=edit)
        assert saved["version"] == version + 1
    api.hiring_knows(list(answers), version=version + 1, timeout_s=60)
    return before_flip


def assert_each_applied_once(platform: Platform, link: str) -> set[str]:
    producer, event_name, _, receiver, per_round = LINKS[link]
    staged = event_ids(platform, producer, outbox, event_name)

    def all_applied() -> bool:
        return sorted(event_ids(platform, receiver, inbox, event_name)) == sorted(staged)

    eventually(
        all_applied, what=f"every {event_name} applied by {receiver} exactly once", timeout_s=60
    )
    assert len(staged) == len(set(staged)) == per_round * ROUNDS
    return set(staged)


@pytest.mark.parametrize(("link", "before", "after"), MIGRATIONS)
def test_switching_a_link_under_traffic_loses_and_doubles_nothing(
    api: Api, platform: Platform, link: str, before: str, after: str
) -> None:
    set_mode(api, link, before)
    author = api.manager("Author of the round")
    answers = {
        api.exercise(author, f"answer {n}", f"Exercise {n}"): f"answer {n}"
        for n in range(EXERCISES)
    }
    api.hiring_knows(list(answers))

    mode, checked_by_call = before, 0
    for version, to in [(v, schedule(link, before, after).get(v)) for v in range(1, ROUNDS + 1)]:
        flip = (lambda to=to: set_mode(api, link, to)) if to is not None else None
        made = one_round(api, answers, author, version, flip)
        checked_by_call += made if mode == "before" else 0
        mode = to or mode
        checked_by_call += SOLVERS * EXERCISES - made if mode == "before" else 0

    # Every link carried every event exactly once, whatever path each took.
    staged = {name: assert_each_applied_once(platform, name) for name in LINKS}
    # A flipped link really used both paths: some events went through the log, some not.
    for name in flipped(link, before, after):
        _, event_name, topic, _, _ = LINKS[name]
        through_log = logged_ids(platform, topic, event_name)
        assert through_log < staged[name] and through_log, (name, len(through_log))
    # Answers were checked by calling exercises exactly while the old wiring was on (COMM-020).
    if link == PRESET:
        assert calls_received(api, "exercises", CHECK_ROUTE) == checked_by_call > 0

    # The money: one payment per assignment; the ledger holds exactly what was issued.
    assignments = api.ok("GET", "exercises", "/assignments")
    assert len(assignments) == EXERCISES * ROUNDS
    assert Counter(a["status"] for a in assignments) == {"closed": EXERCISES * ROUNDS}

    def ledger_complete() -> bool:
        entries = api.entries(author)
        kinds = Counter(e["kind"] for e in entries)
        keys = Counter(e["business_key"] for e in entries)
        fines = ROUNDS * EXERCISES * (SOLVERS - 10)
        expected = {"bonus": ROUNDS * EXERCISES * 10, "fine": fines, "payment": ROUNDS * EXERCISES}
        return kinds == expected and max(keys.values()) == 1

    eventually(
        ledger_complete, what="every bonus, fine and payment in the ledger once", timeout_s=60
    )


@pytest.mark.parametrize("platform", ["embedded"], indirect=True)
def test_the_cli_shows_and_switches_links_and_refuses_nonsense(
    api: Api, platform: Platform
) -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    urls = ["--exercises-url", platform["exercises"].url, "--hiring-url", platform["hiring"].url]

    switched = runner.invoke(app, ["links", "set", "complication", "sync", *urls])
    listed = runner.invoke(app, ["links", "list", *urls])
    wrong_mode = runner.invoke(app, ["links", "set", "complication", "push", *urls])
    wrong_link = runner.invoke(app, ["links", "set", "payments", "event", *urls])

    assert switched.exit_code == 0, switched.output
    assert api.ok("GET", "hiring", "/operator/links/complication")["mode"] == "sync"
    assert listed.exit_code == 0 and "exercise-updates" in listed.output
    assert "complication" in listed.output and "sync" in listed.output
    assert wrong_mode.exit_code == 1
    assert "mode: 'push' is not one of sync, event" in wrong_mode.output
    assert wrong_link.exit_code == 2 and "payments" in wrong_link.output
    assert api.ok("GET", "hiring", "/operator/links/complication")["mode"] == "sync"
