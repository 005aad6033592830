"""Hiring keeps the money it issued after sending it, shows it page by page, and re-sends it
under the original event ids, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from event_examples import MANAGER_ID
from fastapi.testclient import TestClient

from integration.credentials import OPERATOR
from integration.hiring.hiring_support import Hiring, make_settings
from teacher_hiring.hiring.adapters.repository import HiringRepository
from teacher_hiring.hiring.bootstrap import bootstrap
from teacher_hiring.messaging.tables import outbox
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.money import issued

pytestmark = pytest.mark.integration


@pytest.fixture
def hiring(tmp_path: Path, database_url: str) -> Iterator[Hiring]:
    """One completion pays a bonus; every later one of the version is a fine."""
    settings = make_settings(tmp_path, database_url=database_url, completions_before_complication=1)
    with TestClient(bootstrap(settings), headers=OPERATOR) as http:
        service = Hiring(http.app, http)  # type: ignore[arg-type]
        try:
            yield service
        finally:
            for runner in service.runtime.runners:
                runner.close()


def issue_money(hiring: Hiring) -> list[dict[str, Any]]:
    """A bonus and two fines, staged in this order; their envelopes."""
    exercise = hiring.add_exercise(answers=("42",))
    candidates = [hiring.register(f"Solver {n}")["id"] for n in range(3)]
    for candidate in candidates:
        hiring.solve(candidate, exercise["exercise_id"], "42")
    money = [e for e in hiring.events() if e["event_name"] in issued.MONEY_EVENTS]
    assert [e["event_name"] for e in money] == ["BonusAdded", "FineAdded", "FineAdded"]
    return money


def page(hiring: Hiring, **params: Any) -> dict[str, Any]:
    response = hiring.http.get("/operator/money-issued", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def outbox_rows(hiring: Hiring, event_id: str) -> list[tuple[bytes, float | None]]:
    query = sa.select(outbox.c.body, outbox.c.sent_at).where(outbox.c.event_id == event_id)
    with hiring.runtime.engine.connect() as conn:
        return [(bytes(row[0]), row[1]) for row in conn.execute(query)]


def resend(hiring: Hiring, *event_ids: str) -> dict[str, str]:
    response = hiring.http.post(
        "/operator/money-issued/resend", json={"event_ids": list(event_ids)}
    )
    assert response.status_code == 200, response.text
    return {item["event_id"]: item["outcome"] for item in response.json()["items"]}


def test_every_money_event_issued_is_listed_page_by_page_oldest_first(hiring: Hiring) -> None:
    money = issue_money(hiring)

    first = page(hiring, limit=2)
    assert first["producer"] == "hiring"
    assert first["next"] is not None
    second = page(hiring, limit=2, after=first["next"])
    assert second["next"] is None

    items = first["items"] + second["items"]
    assert [i["event_id"] for i in items] == [e["event_id"] for e in money]
    for item, envelope in zip(items, money, strict=True):
        assert item["event_name"] == envelope["event_name"]
        assert item["manager_id"] == MANAGER_ID
        assert item["amount_cents"] == envelope["payload"]["amount_cents"]
        assert item["payload"] == envelope["payload"]
        assert item["trace_id"] == envelope["trace_id"]
    assert [i["amount_cents"] for i in items] == [1000, 500, 500]


def test_the_window_and_the_manager_narrow_the_list(hiring: Hiring) -> None:
    money = issue_money(hiring)
    moments = [i["occurred_at"] for i in page(hiring)["items"]]
    assert moments == sorted(moments)

    assert [i["event_id"] for i in page(hiring, since=moments[1])["items"]] == [
        e["event_id"] for e in money[1:]
    ]
    assert [i["event_id"] for i in page(hiring, until=moments[1])["items"]] == [
        money[0]["event_id"]
    ]
    assert page(hiring, since="2000-01-01", until="2000-01-02")["items"] == []
    assert page(hiring, manager_id="someone-else")["items"] == []
    assert len(page(hiring, manager_id=MANAGER_ID)["items"]) == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2025-03-14T09:00:00"}, "until"),  # no UTC offset
        ({"since": "2025-03-15", "until": "2025-03-14"}, "until"),
        ({"after": "not-a-cursor"}, "after"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_a_bad_parameter_is_refused_naming_it(
    hiring: Hiring, params: dict[str, str], field: str
) -> None:
    response = hiring.http.get("/operator/money-issued", params=params)
    assert response.status_code == 422
    assert field in response.text


def test_money_stays_after_the_outbox_forgets_its_sent_rows(hiring: Hiring) -> None:
    money = issue_money(hiring)
    relay = hiring.runtime.relay
    assert relay.flush(timeout_s=10)
    assert relay.purge_sent(0) >= len(money)
    assert all(outbox_rows(hiring, e["event_id"]) == [] for e in money)

    assert [i["event_id"] for i in page(hiring)["items"]] == [e["event_id"] for e in money]
    # The maintenance pass forgets money only after the money retention (90 days here).
    assert hiring.runtime.purges["issued_money"]() == 0
    assert len(page(hiring)["items"]) == 3
    assert issued.purge(hiring.runtime.engine, older_than_s=0.0) == 3
    assert page(hiring)["items"] == []


def test_a_rolled_back_unit_of_work_keeps_no_record(hiring: Hiring) -> None:
    money = issue_money(hiring)
    uow = UnitOfWork(hiring.runtime.engine, HiringRepository, outbox=hiring.runtime.outbox)
    with pytest.raises(RuntimeError, match="rolled back"), uow:
        uow.stage("BonusAdded", {**money[0]["payload"], "submission_id": "s-rolled-back"})
        raise RuntimeError("rolled back")
    assert len(page(hiring)["items"]) == 3


def test_a_resend_stages_the_original_envelope_again_under_its_event_id(hiring: Hiring) -> None:
    money = issue_money(hiring)
    relay = hiring.runtime.relay
    assert relay.flush(timeout_s=10)
    bonus, fine = money[0], money[1]
    [(sent_body, sent_at)] = outbox_rows(hiring, bonus["event_id"])
    assert sent_at is not None

    outcomes = resend(hiring, bonus["event_id"], fine["event_id"], "no-such-event")
    assert outcomes == {
        bonus["event_id"]: "restaged",
        fine["event_id"]: "restaged",
        "no-such-event": "unknown",
    }
    [(body, unsent)] = outbox_rows(hiring, bonus["event_id"])
    assert unsent is None
    assert orjson.loads(body) == orjson.loads(sent_body) == bonus

    # Asked again before the relay took them: they are on their way already.
    assert resend(hiring, bonus["event_id"]) == {bonus["event_id"]: "pending"}
    assert len(outbox_rows(hiring, bonus["event_id"])) == 1

    assert relay.flush(timeout_s=10)
    transport = hiring.runtime.transport
    on_the_log = [
        record.headers["ce_id"]
        for partition in range(transport.partitions_for("money"))
        for record in transport.read("money", partition, 0, 1000)
    ]
    assert on_the_log.count(bonus["event_id"]) == 2
    assert on_the_log.count(money[2]["event_id"]) == 1
    assert len(page(hiring)["items"]) == 3  # re-sending issues nothing new


def test_a_resend_after_the_outbox_purged_the_row_stages_it_again(hiring: Hiring) -> None:
    money = issue_money(hiring)
    relay = hiring.runtime.relay
    assert relay.flush(timeout_s=10)
    relay.purge_sent(0)

    assert resend(hiring, money[2]["event_id"]) == {money[2]["event_id"]: "restaged"}
    [(body, sent_at)] = outbox_rows(hiring, money[2]["event_id"])
    assert (orjson.loads(body), sent_at) == (money[2], None)


def test_a_resend_without_event_ids_is_refused(hiring: Hiring) -> None:
    response = hiring.http.post("/operator/money-issued/resend", json={"event_ids": []})
    assert response.status_code == 422
    assert "event_ids" in response.text
