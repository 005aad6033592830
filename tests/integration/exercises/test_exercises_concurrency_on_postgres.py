"""Two instances of exercises on one PostgreSQL database, receiving the same work at once.

A leaked version gets one assignment, its assignee is paid once, and a save and a leak report
of one exercise take turns, so the exercise's status always matches its open assignments.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from integration.credentials import OPERATOR, SERVICE
from integration.exercises.exercises_support import Service
from integration.link_stand_in import StandIn, stand_in
from teacher_hiring.exercises.adapters.repository import Repository
from teacher_hiring.exercises.bootstrap import bootstrap
from teacher_hiring.exercises.domain.commands import (
    EditExercise,
    OpenComplicationAssignment,
    UpdateManager,
)
from teacher_hiring.exercises.domain.model import CandidateSnapshot
from teacher_hiring.exercises.service_layer import handlers
from teacher_hiring.exercises.settings import ExercisesSettings
from teacher_hiring.messaging.relay import RELAY_LOCK
from teacher_hiring.messaging.unit_of_work import UnitOfWork

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
__all__ = ["stand_in"]  # a fixture of the tests below

T = TypeVar("T")


@contextmanager
def two_instances(tmp_path: Path, postgres_url: str, **settings: Any) -> Iterator[list[Service]]:
    running: list[tuple[Service, TestClient]] = []
    for _ in range(2):
        client = TestClient(
            bootstrap(
                ExercisesSettings(
                    database_url=postgres_url,
                    event_log_url=f"sqlite:///{tmp_path}/events.db",
                    run_workers=False,
                    log_format="console",
                    **settings,
                )
            ),
            headers=OPERATOR,
        )
        client.__enter__()
        running.append((Service(client), client))
    try:
        yield [service for service, _ in running]
    finally:
        for service, client in reversed(running):
            service.close()
            client.__exit__(None, None, None)


@pytest.fixture
def instances(tmp_path: Path, postgres_url: str) -> Iterator[list[Service]]:
    with two_instances(tmp_path, postgres_url, exercise_updates_link="event") as made:
        yield made


@pytest.fixture
def pushing_instances(
    tmp_path: Path, postgres_url: str, stand_in: StandIn
) -> Iterator[list[Service]]:
    """Both push ExerciseUpdated to `stand_in` (hiring) before a save answers."""
    with two_instances(
        tmp_path, postgres_url, exercise_updates_link="push", hiring_url=stand_in.url
    ) as made:
        yield made


def at_once(*requests: Callable[[], httpx.Response]) -> list[httpx.Response]:
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(lambda request: request(), requests))


def report_leak(service: Service, exercise_id: str, author: str) -> Callable[[], httpx.Response]:
    body = {
        "exercise_id": exercise_id,
        "exercise_version": 1,
        "title": "Sum",
        "author_id": author,
        "candidate_id": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()),
    }
    return lambda: service.client.post("/api/complicate_exercise", json=body, headers=SERVICE)


def save(
    service: Service, exercise_id: str, editor: str, **changes: Any
) -> Callable[[], httpx.Response]:
    body = {"editor_id": editor, **changes}
    return lambda: service.client.put(f"/exercises/{exercise_id}", json=body)


def test_leak_reports_arriving_at_both_instances_at_once_open_one_assignment(
    instances: list[Service],
) -> None:
    first = instances[0]
    author = first.manager()
    exercise_id = first.exercise(author)

    responses = at_once(*(report_leak(instances[n % 2], exercise_id, author) for n in range(8)))

    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["duplicate"] * 7 + ["opened"]
    assert len({r.json()["assignment_id"] for r in responses}) == 1
    assert len(first.assignments()) == 1
    assert first.ok("GET", f"/exercises/{exercise_id}")["status"] == "needs_complication"


def test_the_assignee_saving_twice_at_once_is_paid_once(instances: list[Service]) -> None:
    first = instances[0]
    author = first.manager()
    exercise_id = first.exercise(author)
    report_leak(first, exercise_id, author)()

    responses = at_once(
        *(
            save(instances[n], exercise_id, author, statement=f"Harder {n}", expected_version=1)
            for n in range(2)
        )
    )

    assert sorted(r.status_code for r in responses) == [200, 409]
    assert len(first.staged("PaymentCommited")) == 1
    [assignment] = first.assignments()
    assert (assignment["status"], assignment["closed_with_version"]) == ("closed", 2)


def leak_report(exercise_id: str, author: str, version: int = 1) -> OpenComplicationAssignment:
    return OpenComplicationAssignment(exercise_id, version, "Sum", author, "candidate")


def held_open(
    work: Callable[[UnitOfWork[Repository]], T], uow: UnitOfWork[Repository]
) -> Iterator[T]:
    """Run `work` in its transaction; the transaction commits when the generator is resumed."""
    with uow:
        yield work(uow)
        uow.commit()


def test_a_save_waits_for_a_leak_report_in_progress_then_closes_its_assignment(
    instances: list[Service],
) -> None:
    first, second = instances
    author = first.manager()
    exercise_id = first.exercise(author)
    report = leak_report(exercise_id, author)
    rules = second.services.rules
    reporting = held_open(
        lambda uow: handlers.open_complication_assignment(report, uow, rules),
        second.services.uow(),
    )
    opened = next(reporting)  # assignment inserted and exercise marked, not committed yet

    with ThreadPoolExecutor(max_workers=1) as pool:
        saving = pool.submit(save(first, exercise_id, author, statement="Harder"))
        time.sleep(0.3)
        assert not saving.done()  # the exercise is locked by the report's transaction
        next(reporting, None)  # commit the report
        saved = saving.result(10)

    assert saved.json()["closed_assignment_ids"] == [opened.assignment_id]
    assert saved.json()["status"] == "active"
    assert len(first.staged("PaymentCommited")) == 1


def test_a_leak_report_waits_for_a_save_in_progress_then_finds_the_version_replaced(
    instances: list[Service],
) -> None:
    first, second = instances
    author = first.manager()
    exercise_id = first.exercise(author)
    report = leak_report(exercise_id, author, version=1)  # version 1 leaked...
    edit = EditExercise(exercise_id, author, statement="Complicated already")
    rules = first.services.rules
    versions = first.services.produced()
    saving = held_open(
        lambda uow: handlers.edit_exercise(edit, uow, rules, versions), first.services.uow()
    )
    next(saving)  # ...and version 2 is being saved, not committed yet

    def consume_report() -> handlers.ComplicationOutcome:
        with second.services.uow() as uow:
            outcome = handlers.open_complication_assignment(report, uow, rules)
            uow.commit()
            return outcome

    with ThreadPoolExecutor(max_workers=1) as pool:
        reporting = pool.submit(consume_report)
        time.sleep(0.3)
        assert not reporting.done()  # the exercise is locked by the save's transaction
        next(saving, None)  # commit the save
        outcome = reporting.result(10)

    assert outcome.outcome == "stale"
    assert first.assignments() == []
    assert first.ok("GET", f"/exercises/{exercise_id}")["status"] == "active"


def test_created_and_updated_of_a_new_candidate_applied_at_once_keep_both(
    instances: list[Service],
) -> None:
    """Normally one partition, one consumer; during a rebalance two instances may overlap."""
    ids = [str(uuid.uuid4()) for _ in range(10)]

    def apply(job: tuple[int, str]) -> None:
        index, candidate_id = job
        instance = instances[index % 2]
        with instance.services.uow() as uow:
            if index % 2:
                snapshot = CandidateSnapshot(candidate_id, "Ivan", "teacher", (), ("e1",), None, 20)
                handlers.record_candidate_updated(snapshot, uow)
            else:
                snapshot = CandidateSnapshot(candidate_id, "Ivan", "candidate", ("e1",), (), 10, 10)
                handlers.record_candidate_created(snapshot, uow)
            uow.commit()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(apply, [(n, candidate_id) for candidate_id in ids for n in range(2)]))

    replica = {c["candidate_id"]: c for c in instances[0].ok("GET", "/candidates")}
    assert sorted(replica) == sorted(ids)
    for candidate in replica.values():
        assert candidate["status"] == "teacher"  # the newer state
        assert candidate["created_at"] is not None  # and the creation time of the older one


def test_two_changes_to_one_manager_at_once_both_stay(instances: list[Service]) -> None:
    first, second = instances
    manager_id = first.manager("Anna Petrova")
    versions = second.services.produced()
    renaming = held_open(
        lambda uow: handlers.update_manager(
            UpdateManager(manager_id, team="physics"), uow, versions
        ),
        second.services.uow(),
    )
    next(renaming)  # the team changed, not committed yet

    with ThreadPoolExecutor(max_workers=1) as pool:
        body = {"email": "anna@new.example"}
        moving = pool.submit(first.client.patch, f"/managers/{manager_id}", json=body)
        time.sleep(0.3)
        assert not moving.done()  # the manager is locked by the other change
        next(renaming, None)
        assert moving.result(10).status_code == 200

    stored = first.ok("GET", f"/managers/{manager_id}")
    assert (stored["team"], stored["email"]) == ("physics", "anna@new.example")
    last = first.staged("ManagerUpdated")[-1]["payload"]
    assert (last["team"], last["email"]) == ("physics", "anna@new.example")


@contextmanager
def relay_turn_held(service: Service) -> Iterator[Callable[[], None]]:
    """As if another instance's relay were sending a batch: its turn's lock, held until the
    returned function is called (or the block ends)."""
    conn = service.runtime.engine.connect()
    transaction = conn.begin()
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))"), {"key": RELAY_LOCK})
    try:
        yield transaction.rollback
    finally:
        if transaction.is_active:
            transaction.rollback()
        conn.close()


def test_a_save_waits_for_the_other_instances_relay_then_is_pushed_before_it_answers(
    pushing_instances: list[Service], stand_in: StandIn
) -> None:
    first, second = pushing_instances
    author = first.manager()
    exercise_id = first.exercise(author)
    first.runtime.relay.flush()

    with relay_turn_held(first) as release, ThreadPoolExecutor(max_workers=1) as pool:
        saving = pool.submit(save(second, exercise_id, author, statement="Harder"))
        time.sleep(0.3)
        assert not saving.done()  # waiting for its turn, not answering "not pushed"
        release()
        saved = saving.result(10)

    assert saved.status_code == 200 and saved.json()["pushed"] is True
    pushed = stand_in.bodies("/api/v0/exercise")  # its creation, then the new version
    assert [(body["exercise_id"], body["version"]) for body in pushed][-1] == (exercise_id, 2)


def test_a_save_waits_for_the_other_instances_relay_no_longer_than_its_limit(
    pushing_instances: list[Service],
) -> None:
    first, second = pushing_instances
    author = first.manager()
    exercise_id = first.exercise(author)
    second.services.push_wait_s = 0.3

    with relay_turn_held(first):
        started = time.monotonic()
        saved = save(second, exercise_id, author, statement="Harder")()
        waited = time.monotonic() - started

    assert saved.status_code == 200 and saved.json()["pushed"] is False
    assert 0.3 <= waited < 3
    updated = second.staged("ExerciseUpdated")[-1]["event_id"]
    assert second.unsent(updated)  # left to the relays, whose turn comes once the lock goes
