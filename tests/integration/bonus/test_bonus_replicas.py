"""Ratings never move backwards; the managers replica opens accounts and follows the newest data."""

from __future__ import annotations

import pytest

from integration.bonus.bonus_support import Bonus, bonus_added, envelope, rating_changed

pytestmark = pytest.mark.integration


def rating_of(bonus: Bonus, exercise_id: str) -> tuple[int, int]:
    body = bonus.http.get(f"/ratings/{exercise_id}").json()
    return body["rating"], body["rating_version"]


def test_an_older_rating_version_never_overwrites_a_newer_one(bonus: Bonus) -> None:
    bonus.publish(
        envelope("TaskRatingChanged", rating_changed("ex-1", 40, 2)),
        envelope("TaskRatingChanged", rating_changed("ex-1", 10, 1)),
    )
    bonus.consume("bonus.ratings")

    assert rating_of(bonus, "ex-1") == (40, 2)


def test_an_equal_rating_version_is_ignored_and_a_newer_one_applied(bonus: Bonus) -> None:
    bonus.publish(
        envelope("TaskRatingChanged", rating_changed("ex-1", 40, 2)),
        envelope("TaskRatingChanged", rating_changed("ex-1", 55, 2)),
    )
    bonus.consume("bonus.ratings")
    assert rating_of(bonus, "ex-1") == (40, 2)

    bonus.publish(envelope("TaskRatingChanged", rating_changed("ex-1", 70, 3)))
    bonus.consume("bonus.ratings")
    assert rating_of(bonus, "ex-1") == (70, 3)


def test_ratings_are_listed_and_an_unknown_one_is_404(bonus: Bonus) -> None:
    bonus.publish(
        envelope("TaskRatingChanged", rating_changed("ex-2", 20, 1)),
        envelope("TaskRatingChanged", rating_changed("ex-1", 30, 1)),
    )
    bonus.consume("bonus.ratings")

    listed = bonus.http.get("/ratings").json()
    assert [r["exercise_id"] for r in listed] == ["ex-1", "ex-2"]
    assert listed[0]["changed_at"] == "2025-03-14T09:26:53.589793Z"
    missing = bonus.http.get("/ratings/nope")
    assert missing.status_code == 404
    assert missing.json()["error"] == "RatingNotFound"


def test_manager_created_opens_an_empty_account_with_the_manager(bonus: Bonus) -> None:
    created = {"manager_id": "anna", "name": "Anna Petrova", "email": "anna@school.example"}
    bonus.publish(envelope("ManagerCreated", created))
    bonus.consume("bonus.managers")

    account = bonus.http.get("/accounts/anna").json()
    assert account["balance_cents"] == 0
    assert account["entries"] == 0
    assert account["manager"] == {
        "first_name": "Anna",
        "last_name": "Petrova",
        "name": "Anna Petrova",
        "team": None,
        "email": "anna@school.example",
    }


def test_manager_events_of_both_versions_feed_one_replica_in_the_new_form(bonus: Bonus) -> None:
    base = {"manager_id": "anna", "email": "anna@school.example"}
    v1 = {**base, "first_name": "Anna", "last_name": "Petrova", "team": "mathematics"}
    bonus.publish(
        envelope("ManagerCreated", {**base, "name": "Anna Maria Petrova"}),
        envelope("ManagerUpdated", v1, event_version=1, produced_at="2099-01-01T00:00:00Z"),
    )
    bonus.consume("bonus.managers")

    shown = bonus.http.get("/accounts/anna").json()["manager"]
    assert (shown["name"], shown["team"]) == ("Anna Petrova", "mathematics")
    statement = bonus.http.get(
        "/accounts/anna/statement", params={"start": "2025-01-01", "end": "2025-02-01"}
    ).json()
    assert statement["manager"] == shown


def test_manager_created_after_money_keeps_the_lazily_opened_account(bonus: Bonus) -> None:
    bonus.publish(envelope("BonusAdded", bonus_added("anna", 1400)))
    bonus.consume()
    created = {"manager_id": "anna", "name": "Anna Petrova", "email": "anna@school.example"}
    bonus.publish(envelope("ManagerCreated", created))
    bonus.consume("bonus.managers")

    account = bonus.http.get("/accounts/anna").json()
    assert (account["balance_cents"], account["manager"]["name"]) == (1400, "Anna Petrova")
    assert len(bonus.http.get("/accounts").json()) == 1


def test_the_replica_never_goes_back_to_an_older_manager_state(bonus: Bonus) -> None:
    base = {"manager_id": "anna", "email": "anna@school.example"}
    bonus.publish(
        envelope("ManagerCreated", {**base, "name": "Anna"}, produced_at="2025-03-14T10:00:00Z"),
        envelope("ManagerUpdated", {**base, "name": "Anna P."}, produced_at="2025-03-14T12:00:00Z"),
        # A replayed dead letter from before the last update arrives late:
        envelope("ManagerUpdated", {**base, "name": "Old"}, produced_at="2025-03-14T11:00:00Z"),
    )
    bonus.consume("bonus.managers")

    assert bonus.http.get("/accounts/anna").json()["manager"]["name"] == "Anna P."


def test_redelivered_replica_events_change_nothing(bonus: Bonus) -> None:
    rating = envelope("TaskRatingChanged", rating_changed("ex-1", 40, 2))
    created = envelope(
        "ManagerCreated", {"manager_id": "anna", "name": "Anna", "email": "anna@school.example"}
    )
    for _ in range(2):
        bonus.publish(rating, created)
        bonus.consume("bonus.ratings")
        bonus.consume("bonus.managers")

    assert rating_of(bonus, "ex-1") == (40, 2)
    assert bonus.http.get("/accounts").json()[0]["manager"]["name"] == "Anna"
    assert len(bonus.http.get("/ratings").json()) == 1
