"""Reconciliation on bonus, with real hiring and exercises services as its producers: the
ledger page by page, the differences it finds, and repairs that double nothing.

bonus runs on SQLite and on PostgreSQL; its producers on SQLite files, all three sharing one
embedded event log. The producers are reached through their own HTTP apps (in process).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from event_examples import MANAGER_ID
from fastapi.testclient import TestClient

from integration.bonus.bonus_support import (
    Bonus,
    bonus_added,
    closed_port,
    counter,
    envelope,
    make_settings,
)
from integration.credentials import OPERATOR
from integration.exercises.exercises_support import Service, leak_event
from integration.hiring.hiring_support import Hiring
from integration.hiring.hiring_support import make_settings as hiring_settings
from teacher_hiring.bonus.adapters.producers_client import ProducersClient
from teacher_hiring.bonus.bootstrap import bootstrap
from teacher_hiring.exercises.bootstrap import bootstrap as exercises_bootstrap
from teacher_hiring.exercises.entrypoints.consumers import COMPLETIONS_GROUP
from teacher_hiring.exercises.settings import ExercisesSettings
from teacher_hiring.foundation.pages import now_text
from teacher_hiring.hiring.bootstrap import bootstrap as hiring_bootstrap
from teacher_hiring.messaging.embedded_log import EmbeddedLog
from teacher_hiring.messaging.envelope import Envelope

pytestmark = pytest.mark.integration


def until() -> str:
    """A minute from now: everything issued so far (the default window ends a minute ago)."""
    return now_text(minus_s=-60)


@dataclass
class Platform:
    bonus: Bonus
    hiring: Hiring
    exercises: Service

    def reconcile(self, **params: str) -> dict[str, Any]:
        response = self.bonus.http.get(
            "/operator/reconciliation", params={"until": until(), **params}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def repair(self) -> dict[str, Any]:
        response = self.bonus.http.post(
            "/operator/reconciliation/repair", params={"until": until()}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def deliver(self) -> int:
        """Both producers relay what they staged; bonus applies what reached the log."""
        assert self.hiring.runtime.relay.flush(timeout_s=10)
        assert self.exercises.runtime.relay.flush(timeout_s=10)
        return self.bonus.consume()

    def lose_money_on_the_log(self) -> None:
        """The log's money records go before bonus read them, as retention would take them."""
        log = self.bonus.log
        log.delete_records("money", log.end_offsets("money"))

    def solved(self, exercise_id: str, count: int) -> list[str]:
        """`count` new candidates solve the exercise; the BonusAdded event ids, in order."""
        before = {e["event_id"] for e in self.hiring.events("BonusAdded")}
        for n in range(count):
            candidate = self.hiring.register(f"Solver {len(before) + n}")
            self.hiring.solve(candidate["id"], exercise_id, "42")
        return [
            e["event_id"] for e in self.hiring.events("BonusAdded") if e["event_id"] not in before
        ]

    def balance(self, manager_id: str) -> int:
        response = self.bonus.http.get(f"/accounts/{manager_id}")
        assert response.status_code == 200, response.text
        return int(response.json()["balance_cents"])

    def entries(self) -> int:
        return int(self.bonus.scalar("SELECT count(*) FROM ledger"))


@pytest.fixture
def platform(tmp_path: Path, database_url: str) -> Iterator[Platform]:
    log_path = tmp_path / "events.db"
    hiring_app = hiring_bootstrap(
        hiring_settings(tmp_path, database_url=f"sqlite:///{tmp_path}/hiring.db")
    )
    exercises_app = exercises_bootstrap(
        ExercisesSettings(
            database_url=f"sqlite:///{tmp_path}/exercises.db",
            event_log_url=f"sqlite:///{log_path}",
            run_workers=False,
            exercise_updates_link="event",
            log_format="console",
            log_level="warning",
        )
    )
    with (
        TestClient(hiring_app, headers=OPERATOR) as hiring_http,
        TestClient(exercises_app, headers=OPERATOR) as exercises_http,
    ):
        producers = ProducersClient(
            {}, timeout_s=5, clients={"hiring": hiring_http, "exercises": exercises_http}
        )
        bonus_app = bootstrap(
            make_settings(tmp_path, database_url=database_url), producers=producers
        )
        with TestClient(bonus_app, headers=OPERATOR) as bonus_http:
            log = EmbeddedLog(log_path)
            found = Platform(
                Bonus(bonus_app, bonus_http, log),
                Hiring(hiring_app, hiring_http),
                Service(exercises_http),
            )
            try:
                yield found
            finally:
                for runtime in (found.bonus.runtime, found.hiring.runtime):
                    for runner in runtime.runners:
                        runner.close()
                found.exercises.close()
                log.close()


def paid_for_complication(exercises: Service) -> str:
    """A manager of exercises paid for complicating their leaked exercise; their id."""
    author = exercises.manager("Olga Smirnova")
    exercise_id = exercises.exercise(author)
    exercises.send(leak_event(exercise_id, author))
    assert exercises.consume(COMPLETIONS_GROUP) == 1
    exercises.edit(exercise_id, author, accepted_answers=["43"], statement="Harder")
    return author


def test_the_ledger_is_listed_page_by_page_within_the_window(bonus: Bonus) -> None:
    moments = ["2025-03-14T09:00:00.000000Z", "2025-03-14T10:00:00.000000Z"]
    events = [
        envelope("BonusAdded", bonus_added("m-1", occurred_at=moments[0])),
        envelope("BonusAdded", bonus_added("m-2", occurred_at=moments[0])),
        envelope("BonusAdded", bonus_added("m-1", occurred_at=moments[1])),
    ]
    bonus.publish(*events)
    assert bonus.consume() == 3

    first = bonus.http.get("/operator/ledger-entries", params={"limit": 2}).json()
    rest = bonus.http.get("/operator/ledger-entries", params={"after": first["next"]}).json()
    assert rest["next"] is None
    listed = first["items"] + rest["items"]
    assert sorted(i["source"]["event_id"] for i in listed[:2]) == sorted(
        e.event_id for e in events[:2]
    )
    assert listed[2]["source"]["event_id"] == events[2].event_id
    assert [i["occurred_at"] for i in listed] == [moments[0], moments[0], moments[1]]

    in_window = bonus.http.get(
        "/operator/ledger-entries",
        params={"since": moments[1], "until": "2025-03-15", "manager_id": "m-1"},
    ).json()
    assert [i["source"]["event_id"] for i in in_window["items"]] == [events[2].event_id]
    assert in_window["items"][0]["manager_id"] == "m-1"

    bad = bonus.http.get("/operator/ledger-entries", params={"after": "garbage"})
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("after:")


def test_lost_money_is_found_repaired_under_its_event_ids_and_a_second_repair_changes_nothing(
    platform: Platform,
) -> None:
    exercise = platform.hiring.add_exercise(answers=("42",))
    platform.solved(exercise["exercise_id"], 3)
    payee = paid_for_complication(platform.exercises)
    assert platform.deliver() == 4
    clean = platform.reconcile()
    assert clean["summary"] | {"by_kind": None} == {
        "clean": True,
        "differences": 0,
        "repairable": 0,
        "by_kind": None,
        "issued_count": 4,
        "issued_cents": 3 * 1000 + 3000,
        "ledger_count": 4,
        "ledger_cents": 3 * 1000 + 3000,
    }
    assert {p["producer"]: p["issued"] for p in clean["producers"]} == {"hiring": 3, "exercises": 1}

    lost = platform.solved(exercise["exercise_id"], 2)
    assert platform.hiring.runtime.relay.flush(timeout_s=10)
    platform.lose_money_on_the_log()
    assert platform.deliver() == 0

    found = platform.reconcile()
    assert [(d["kind"], d["issued"]["event_id"]) for d in found["differences"]] == [
        ("missing", event_id) for event_id in lost
    ]
    assert all(d["repairable"] and d["ledger"] is None for d in found["differences"])
    [author] = [m for m in found["managers"] if m["manager_id"] == MANAGER_ID]
    assert (author["issued_count"], author["ledger_count"], author["differences"]) == (5, 3, 2)
    by_manager = platform.reconcile(manager_id=payee)
    assert by_manager["summary"]["clean"] and by_manager["summary"]["issued_count"] == 1

    repaired = platform.repair()
    assert repaired["report"]["summary"]["repairable"] == 2
    assert repaired["counts"] == {"restaged": 2, "pending": 0, "unknown": 0}
    assert {(r["producer"], r["event_id"]) for r in repaired["resent"]} == {
        ("hiring", event_id) for event_id in lost
    }
    assert platform.deliver() == 2
    assert platform.reconcile()["summary"]["clean"]
    assert platform.entries() == 6
    assert platform.balance(MANAGER_ID) == 5 * 1000
    assert platform.balance(payee) == 3000

    again = platform.repair()
    assert (again["resent"], again["counts"]["restaged"]) == ([], 0)
    assert platform.deliver() == 0

    # Money that was only late, re-sent anyway: the inbox drops it by its event id.
    duplicates = counter(
        "events_processed_total",
        service="bonus",
        consumer="bonus.money",
        event_name="BonusAdded",
        outcome="duplicate",
    )
    response = platform.hiring.http.post(
        "/operator/money-issued/resend", json={"event_ids": lost[:1]}
    )
    assert response.json()["items"] == [{"event_id": lost[0], "outcome": "restaged"}]
    assert platform.deliver() == 1
    assert platform.entries() == 6
    assert platform.balance(MANAGER_ID) == 5 * 1000
    assert (
        counter(
            "events_processed_total",
            service="bonus",
            consumer="bonus.money",
            event_name="BonusAdded",
            outcome="duplicate",
        )
        == duplicates + 1
    )


def test_entries_nobody_issued_and_other_differences_are_reported_never_repaired(
    platform: Platform,
) -> None:
    exercise = platform.hiring.add_exercise(answers=("42",))
    re_emitted, altered = platform.solved(exercise["exercise_id"], 2)
    staged = {e["event_id"]: e for e in platform.hiring.events("BonusAdded")}
    copy = Envelope.from_dict({**staged[re_emitted], "event_id": str(uuid.uuid4())})
    changed = Envelope.from_dict(
        {**staged[altered], "payload": {**staged[altered]["payload"], "amount_cents": 999}}
    )
    stray = envelope("BonusAdded", bonus_added(MANAGER_ID, occurred_at=now_text()))
    platform.bonus.publish(copy, changed, stray)
    assert platform.bonus.consume() == 3
    assert platform.deliver() == 2  # the originals: one business key, one event id already held

    report = platform.reconcile()
    kinds = {d["kind"]: d for d in report["differences"]}
    assert sorted(kinds) == ["mismatch", "not_issued", "other_event_id"]
    assert kinds["other_event_id"]["ledger"]["event_id"] == copy.event_id
    assert kinds["other_event_id"]["issued"]["event_id"] == re_emitted
    assert (
        kinds["mismatch"]["issued"]["amount_cents"],
        kinds["mismatch"]["ledger"]["amount_cents"],
    ) == (1000, 999)
    assert kinds["not_issued"]["ledger"]["event_id"] == stray.event_id
    assert not any(d["repairable"] for d in report["differences"])

    entries = platform.entries()
    repaired = platform.repair()
    assert repaired["resent"] == []
    assert platform.deliver() == 0
    assert platform.entries() == entries == 3  # nothing added, nothing deleted
    assert platform.reconcile()["summary"]["differences"] == 3


def test_money_not_yet_sent_is_left_to_the_producers_relay(platform: Platform) -> None:
    exercise = platform.hiring.add_exercise(answers=("42",))
    [waiting] = platform.solved(exercise["exercise_id"], 1)

    repaired = platform.repair()
    assert repaired["resent"] == [{"producer": "hiring", "event_id": waiting, "outcome": "pending"}]
    assert platform.deliver() == 1
    assert platform.reconcile()["summary"]["clean"]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def _bonus_with(tmp_path: Path, database_url: str, producers: ProducersClient) -> TestClient:
    return TestClient(
        bootstrap(make_settings(tmp_path, database_url=database_url), producers=producers),
        headers=OPERATOR,
    )


def test_a_producer_that_cannot_be_reached_is_named_in_a_503(
    tmp_path: Path, database_url: str, silent_port: int
) -> None:
    for url, words in [
        (f"http://127.0.0.1:{closed_port()}", "hiring could not be reached"),
        (f"http://127.0.0.1:{silent_port}", "hiring did not answer within 0.5 s"),
    ]:
        producers = ProducersClient({"hiring": url}, timeout_s=0.5)
        with _bonus_with(tmp_path, database_url, producers) as http:
            response = http.get("/operator/reconciliation")
            assert response.status_code == 503, response.text
            assert response.json()["producer"] == "hiring"
            assert words in response.json()["detail"]
            assert http.post("/operator/reconciliation/repair").status_code == 503
        producers.close()


def test_a_producer_answering_an_error_is_named_in_a_502_and_bad_input_is_a_422(
    tmp_path: Path, database_url: str
) -> None:
    hiring_app = hiring_bootstrap(
        hiring_settings(tmp_path, database_url=f"sqlite:///{tmp_path}/hiring.db")
    )
    with (
        TestClient(hiring_app, headers=OPERATOR) as hiring_http,
        TestClient(
            hiring_app, base_url="http://testserver/no-such-prefix", headers=OPERATOR
        ) as wrong_path,
    ):
        producers = ProducersClient(
            {}, timeout_s=5, clients={"hiring": hiring_http, "exercises": wrong_path}
        )
        with _bonus_with(tmp_path, database_url, producers) as http:
            response = http.get("/operator/reconciliation")
            assert response.status_code == 502, response.text
            assert response.json()["producer"] == "exercises"
            assert "exercises answered HTTP 404" in response.json()["detail"]

            for params, field in [
                ({"since": "soon"}, "since"),
                ({"since": "2025-03-15", "until": "2025-03-14"}, "until"),
                ({"manager_id": ""}, "manager_id"),
            ]:
                response = http.get("/operator/reconciliation", params=params)
                assert response.status_code == 422, response.text
                assert field in response.text
        for runner in hiring_app.state.runtime.runners:
            runner.close()
