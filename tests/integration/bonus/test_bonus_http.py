"""Reading accounts over HTTP: entries, statements, and the manager (COMM-070)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from integration.bonus.bonus_support import (
    Bonus,
    bonus_added,
    counter,
    envelope,
    fine_added,
    make_settings,
    payment_commited,
)
from integration.credentials import OPERATOR
from teacher_hiring.bonus.adapters.exercises_client import ExercisesClient
from teacher_hiring.bonus.bootstrap import bootstrap
from teacher_hiring.messaging.embedded_log import EmbeddedLog

pytestmark = pytest.mark.integration


def exercises_calls() -> float:
    return sum(
        counter("exercises_http_calls_total", service="bonus", outcome=outcome)
        for outcome in ("ok", "not_found", "error")
    )


def test_a_statement_counts_only_the_period_and_adds_up(bonus: Bonus) -> None:
    bonus.publish(
        envelope("BonusAdded", bonus_added("anna", 1000, occurred_at="2025-02-27T10:00:00Z")),
        envelope("FineAdded", fine_added("anna", 500, occurred_at="2025-02-28T23:59:59.999999Z")),
        envelope("BonusAdded", bonus_added("anna", 1400, occurred_at="2025-03-01T00:00:00Z")),
        envelope("FineAdded", fine_added("anna", 500, occurred_at="2025-03-15T12:00:00+03:00")),
        envelope(
            "PaymentCommited", payment_commited("anna", 3000, occurred_at=("2025-03-31T23:59:59Z"))
        ),
        envelope("BonusAdded", bonus_added("anna", 1200, occurred_at="2025-04-01T00:00:00Z")),
    )
    bonus.consume()

    march = bonus.http.get(
        "/accounts/anna/statement", params={"start": "2025-03-01", "end": "2025-04-01"}
    ).json()

    assert march["opening_balance_cents"] == 1000 - 500
    assert [e["amount_cents"] for e in march["entries"]] == [1400, -500, 3000]
    assert march["entries"][1]["occurred_at"] == "2025-03-15T09:00:00.000000Z"
    assert march["totals"] == {
        "bonus_cents": 1400,
        "bonus_count": 1,
        "fine_cents": 500,
        "fine_count": 1,
        "payment_cents": 3000,
        "payment_count": 1,
        "credits_cents": 4400,
        "debits_cents": 500,
    }
    assert march["closing_balance_cents"] == 500 + 4400 - 500
    april = bonus.http.get(
        "/accounts/anna/statement", params={"start": "2025-04-01", "end": "2025-05-01"}
    ).json()
    assert april["opening_balance_cents"] == march["closing_balance_cents"]
    assert (
        april["closing_balance_cents"] == bonus.http.get("/accounts/anna").json()["balance_cents"]
    )


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2025-03-01", "2025-03-01", "end"),
        ("2025-03-02", "2025-03-01", "end"),
        ("2025-3-01", "2025-04-01", "start"),
        ("2025-03-01", "2025-02-30", "end"),
        ("yesterday", "2025-04-01", "start"),
    ],
)
def test_a_bad_statement_period_is_422_naming_the_field(
    bonus: Bonus, start: str, end: str, field: str
) -> None:
    bonus.publish(envelope("BonusAdded", bonus_added("anna")))
    bonus.consume()

    response = bonus.http.get("/accounts/anna/statement", params={"start": start, "end": end})

    assert response.status_code == 422
    assert response.json()["field"] == field
    assert response.json()["detail"].startswith(f"{field}:")


def test_a_statement_of_an_unknown_account_is_404(bonus: Bonus) -> None:
    response = bonus.http.get("/accounts/nobody/statement?start=2025-03-01&end=2025-04-01")
    assert response.status_code == 404
    assert response.json()["error"] == "AccountNotFound"


def test_entries_come_newest_first_in_pages_and_filter_by_kind(bonus: Bonus) -> None:
    days = ["2025-03-01", "2025-03-05", "2025-03-03", "2025-03-04", "2025-03-02"]
    bonus.publish(
        *(
            envelope("BonusAdded", bonus_added("anna", 1000 + i, occurred_at=f"{d}T08:00:00Z"))
            for i, d in enumerate(days)
        ),
        envelope("FineAdded", fine_added("anna", 500, occurred_at="2025-03-06T08:00:00Z")),
    )
    bonus.consume()

    first = bonus.http.get("/accounts/anna/entries", params={"limit": 2}).json()
    second = bonus.http.get("/accounts/anna/entries", params={"limit": 2, "offset": 2}).json()
    fines = bonus.http.get("/accounts/anna/entries", params={"kind": "fine"}).json()

    assert [e["occurred_at"][:10] for e in first["items"]] == ["2025-03-06", "2025-03-05"]
    assert [e["occurred_at"][:10] for e in second["items"]] == ["2025-03-04", "2025-03-03"]
    assert (first["total"], fines["total"]) == (6, 1)
    assert [e["kind"] for e in fines["items"]] == ["fine"]
    assert bonus.http.get("/accounts/anna/entries", params={"limit": 0}).status_code == 422
    assert bonus.http.get("/accounts/anna/entries", params={"kind": "gift"}).status_code == 422
    assert bonus.http.get("/accounts/nobody/entries").status_code == 404


def test_the_balance_history_is_the_running_balance_of_the_newest_entries(bonus: Bonus) -> None:
    bonus.publish(
        envelope("BonusAdded", bonus_added("anna", 1000, occurred_at="2025-03-01T08:00:00Z")),
        envelope("FineAdded", fine_added("anna", 500, occurred_at="2025-03-03T08:00:00Z")),
        envelope("BonusAdded", bonus_added("anna", 1200, occurred_at="2025-03-02T08:00:00Z")),
        envelope(
            "PaymentCommited", payment_commited("anna", 3000, occurred_at="2025-03-04T08:00:00Z")
        ),
    )
    bonus.consume()

    whole = bonus.http.get("/accounts/anna/balance-history").json()
    newest = bonus.http.get("/accounts/anna/balance-history", params={"limit": 2}).json()

    assert [(p["at"][:10], p["balance_cents"]) for p in whole["points"]] == [
        ("2025-03-01", 1000),
        ("2025-03-02", 2200),
        ("2025-03-03", 1700),
        ("2025-03-04", 4700),
    ]
    assert (
        whole["points"][-1]["balance_cents"]
        == bonus.http.get("/accounts/anna").json()["balance_cents"]
    )
    assert [p["kind"] for p in newest["points"]] == ["fine", "payment"]
    assert [p["amount_cents"] for p in newest["points"]] == [-500, 3000]
    assert (whole["total"], newest["total"]) == (4, 4)
    assert bonus.http.get("/accounts/nobody/balance-history").status_code == 404


def test_an_unknown_account_is_404(bonus: Bonus) -> None:
    response = bonus.http.get("/accounts/nobody")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "manager_id: no account for nobody",
        "error": "AccountNotFound",
        "manager_id": "nobody",
    }


def test_a_replicated_manager_is_shown_without_calling_exercises(bonus: Bonus) -> None:
    created = {"manager_id": "anna", "name": "Anna Petrova", "email": "anna@school.example"}
    bonus.publish(envelope("ManagerCreated", created), envelope("BonusAdded", bonus_added("anna")))
    bonus.consume("bonus.managers")
    bonus.consume()
    before = exercises_calls()

    account = bonus.http.get("/accounts/anna").json()

    assert account["manager"] == {
        "first_name": "Anna",
        "last_name": "Petrova",
        "name": "Anna Petrova",
        "team": None,
        "email": "anna@school.example",
    }
    assert exercises_calls() == before


def test_an_unknown_manager_with_exercises_down_still_shows_the_account_fast(
    bonus: Bonus,
) -> None:
    bonus.publish(envelope("BonusAdded", bonus_added("stranger", 1400)))
    bonus.consume()
    before = counter("exercises_http_calls_total", service="bonus", outcome="error")

    started = time.perf_counter()
    response = bonus.http.get("/accounts/stranger")
    elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert response.json()["manager"] is None
    assert response.json()["balance_cents"] == 1400
    assert elapsed < 3.0  # under the 5 s an HTTP client waits by default, on a busy machine too
    assert counter("exercises_http_calls_total", service="bonus", outcome="error") == before + 1


def test_an_unknown_manager_is_read_from_exercises_once_and_cached(
    tmp_path: Path, database_url: str
) -> None:
    calls: list[str] = []

    def exercises(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        body = {
            "id": "boris",
            "first_name": "Boris",
            "last_name": "Godunov",
            "name": "Boris Godunov",
            "team": "history",
            "email": "b@x.io",
        }
        return httpx.Response(200, json=body)

    directory = ExercisesClient(
        "http://exercises.test",
        timeout_s=0.3,
        ttl_s=60,
        failure_ttl_s=5,
        transport=httpx.MockTransport(exercises),
    )
    app = bootstrap(make_settings(tmp_path, database_url=database_url), manager_directory=directory)
    with TestClient(app, headers=OPERATOR) as http:
        bonus = Bonus(app, http, EmbeddedLog(tmp_path / "events.db"))
        bonus.publish(envelope("BonusAdded", bonus_added("boris")))
        bonus.consume()

        first = http.get("/accounts/boris").json()
        second = http.get("/accounts/boris").json()
        bonus.runner("bonus.money").close()

    assert first["manager"] == second["manager"]
    assert first["manager"] == {
        "first_name": "Boris",
        "last_name": "Godunov",
        "name": "Boris Godunov",
        "team": "history",
        "email": "b@x.io",
    }
    assert calls == ["/managers/boris"]


def test_the_openapi_document_describes_the_routes(bonus: Bonus) -> None:
    document = bonus.http.get("/openapi.json").json()

    statement = document["paths"]["/accounts/{manager_id}/statement"]["get"]
    assert "opening balance" in statement["description"]
    assert {"/accounts", "/accounts/{manager_id}", "/accounts/{manager_id}/entries"} <= set(
        document["paths"]
    )
    assert {"/ratings", "/ratings/{exercise_id}", "/ledger/totals"} <= set(document["paths"])
