"""What the managers' and operators' pages read and do, over the services' APIs (api.Calls).

The services remain the only source of business data: a manager's exercise list joins what
exercises holds (the text, the version) with what hiring counts (completions, rating, leaked);
everything else is one call. Fields are typed where a page computes with them; the operators'
tools answer with the services' own JSON, shown as it comes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web.api import SERVICES, Calls, Refused, Service, ServiceDown

# -- managers ----------------------------------------------------------------------------------


class ExerciseText(BaseModel):
    """What a manager writes of an exercise: the same in its current and its past versions,
    and the fields of the pages' exercise form."""

    title: str
    statement: str
    accepted_answers: list[str] | None = None
    """None where the manager may not edit the exercise (exercises never shows them)."""
    check_mode: str
    subject: str
    difficulty: int


class Exercise(ExerciseText):
    """An exercise as its author sees it (exercises' current version, answers included)."""

    id: str
    author_id: str
    version: int
    status: str
    created_at: str
    updated_at: str


class ExerciseCounts(BaseModel):
    """hiring's counters of the exercise's current version."""

    version: int
    completions: int = 0
    rating: int | None = None
    needs_complication: bool = False


class MyExercise(BaseModel):
    exercise: Exercise
    counts: ExerciseCounts | None
    """None while hiring has not received the exercise yet."""

    @property
    def leaked(self) -> bool:
        return self.counts is not None and self.counts.needs_complication


class Assignment(BaseModel):
    id: str
    exercise_id: str
    exercise_version: int
    assignee_id: str
    status: str
    opened_at: str
    closed_at: str | None
    closed_with_version: int | None


class ExerciseVersion(ExerciseText):
    version: int
    edited_by: str
    saved_at: str


def my_exercises(calls: Calls, manager_id: str) -> list[MyExercise]:
    """The manager's exercises, newest first, each with hiring's counts of its version."""
    written = calls.get("exercises", "/exercises", author_id=manager_id)
    counted = calls.get("hiring", "/exercises", author_id=manager_id)["items"]
    counts = {item["exercise_id"]: item for item in counted}
    found = []
    for item in written:
        exercise = Exercise.model_validate(item)
        count = counts.get(exercise.id)
        found.append(
            MyExercise(
                exercise=exercise,
                counts=None if count is None else ExerciseCounts.model_validate(count),
            )
        )
    return sorted(found, key=lambda mine: mine.exercise.created_at, reverse=True)


def exercise(calls: Calls, exercise_id: str) -> Exercise:
    return Exercise.model_validate(calls.get("exercises", f"/exercises/{exercise_id}"))


def exercise_versions(calls: Calls, exercise_id: str) -> list[ExerciseVersion]:
    found = calls.get("exercises", f"/exercises/{exercise_id}/versions")
    return [ExerciseVersion.model_validate(item) for item in found]


def create_exercise(calls: Calls, body: dict[str, Any]) -> Exercise:
    return Exercise.model_validate(calls.post("exercises", "/exercises", body))


def save_exercise(calls: Calls, exercise_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The saved exercise, with `closed_assignment_ids` (each one paid once)."""
    saved: dict[str, Any] = calls.put("exercises", f"/exercises/{exercise_id}", body)
    return saved


def my_assignments(calls: Calls, manager_id: str, status: str | None = "open") -> list[Assignment]:
    params: dict[str, Any] = {"assignee_id": manager_id}
    if status is not None:
        params["status"] = status
    found = calls.get("exercises", "/assignments", **params)
    return [Assignment.model_validate(item) for item in found]


def account(calls: Calls, manager_id: str) -> dict[str, Any] | None:
    """The manager's account; None while no money event has opened it."""
    try:
        found: dict[str, Any] = calls.get("bonus", f"/accounts/{manager_id}")
    except Refused as exc:
        if exc.status == 404:
            return None
        raise
    return found


def entries(calls: Calls, manager_id: str, limit: int, offset: int) -> dict[str, Any]:
    found: dict[str, Any] = calls.get(
        "bonus", f"/accounts/{manager_id}/entries", limit=limit, offset=offset
    )
    return found


def statement(calls: Calls, manager_id: str, start: str, end: str) -> dict[str, Any]:
    found: dict[str, Any] = calls.get(
        "bonus", f"/accounts/{manager_id}/statement", start=start, end=end
    )
    return found


def balance_history(calls: Calls, manager_id: str, limit: int = 200) -> dict[str, Any]:
    found: dict[str, Any] = calls.get(
        "bonus", f"/accounts/{manager_id}/balance-history", limit=limit
    )
    return found


NAMES_LIMIT = 1000


def candidates(calls: Calls, status: str | None = None) -> list[dict[str, Any]]:
    """Candidates as exercises' replica holds them (COMM-090), with their names from hiring:
    the replica never holds a name (hiring seals names in its events, docs/security.md). With
    hiring down, the list is shown with the names it has (none for new candidates)."""
    params = {} if status is None else {"status": status}
    found: list[dict[str, Any]] = calls.get("exercises", "/candidates", **params)
    try:
        page = calls.get("hiring", "/candidates", limit=NAMES_LIMIT, **params)
    except (ServiceDown, Refused):
        return found
    names = {item["id"]: item["name"] for item in page["items"]}
    return [c | {"name": names.get(c["candidate_id"], c["name"])} for c in found]


def erase_candidate(calls: Calls, candidate_id: str) -> dict[str, Any]:
    """hiring erases the candidate's name, email and answers everywhere (docs/security.md)."""
    done: dict[str, Any] = calls.post(
        "hiring", f"/operator/candidates/{quote(candidate_id, safe='')}/erase"
    )
    return done


# -- complication payments held for review ---------------------------------------------------

REVIEWS = "/operator/payment-reviews"


def payment_reviews(calls: Calls, status: str | None) -> list[dict[str, Any]]:
    """exercises' held complication payments, oldest first, with their evidence."""
    params = {} if status is None else {"status": status}
    found: list[dict[str, Any]] = calls.get("exercises", REVIEWS, **params)
    return found


def payment_review(calls: Calls, review_id: str) -> dict[str, Any]:
    found: dict[str, Any] = calls.get("exercises", f"{REVIEWS}/{quote(review_id, safe='')}")
    return found


def decide_payment(calls: Calls, review_id: str, decision: str, reason: str) -> dict[str, Any]:
    """Approve (paid then, once) or reject (never paid) a held payment."""
    action = "approve" if decision == "approve" else "reject"
    body = {"reason": reason} if reason or action == "reject" else {}
    done: dict[str, Any] = calls.post(
        "exercises", f"{REVIEWS}/{quote(review_id, safe='')}/{action}", json=body
    )
    return done


# -- operators ---------------------------------------------------------------------------------


def managers(calls: Calls) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = calls.get("exercises", "/managers")
    return found


def manager(calls: Calls, manager_id: str) -> dict[str, Any]:
    found: dict[str, Any] = calls.get("exercises", f"/managers/{manager_id}")
    return found


def create_manager(calls: Calls, body: dict[str, Any]) -> dict[str, Any]:
    """The new manager; its `access_token` is dropped here: people sign in with passwords."""
    created: dict[str, Any] = calls.post("exercises", "/managers", body)
    created.pop("access_token", None)
    created.pop("refresh_token", None)
    return created


def revoke(calls: Calls, role: Role, subject: str) -> list[Service]:
    """Revoke the person's tokens on every service; the services that could not be told."""
    missed = []
    for service in SERVICES:
        try:
            calls.post(service, "/operator/revocations", {"role": role.value, "subject": subject})
        except (ServiceDown, Refused):
            missed.append(service)
    return missed


def update_manager(calls: Calls, manager_id: str, body: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = calls.patch("exercises", f"/managers/{manager_id}", body)
    return found


def dead_letters(calls: Calls, service: Service, **params: Any) -> dict[str, Any]:
    found: dict[str, Any] = calls.get(service, "/operator/dead-letters", **params)
    return found


def dead_letter(calls: Calls, service: Service, topic: str, letter_id: str) -> dict[str, Any]:
    found: dict[str, Any] = calls.get(service, f"/operator/dead-letters/{topic}/{letter_id}")
    return found


def replay(calls: Calls, service: Service, body: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = calls.post(service, "/operator/dead-letters/replay", body)
    return found


def purge(calls: Calls, service: Service, body: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = calls.post(service, "/operator/dead-letters/purge", body)
    return found


def reconciliation(calls: Calls, **params: Any) -> dict[str, Any]:
    found: dict[str, Any] = calls.get("bonus", "/operator/reconciliation", **params)
    return found


def repair(calls: Calls, **params: Any) -> dict[str, Any]:
    found: dict[str, Any] = calls.request(
        "bonus", "POST", "/operator/reconciliation/repair", params=params
    )
    return found


def _of_every_service(calls: Calls, path: str) -> list[dict[str, Any]]:
    """The items each service lists at `path`, each with the service (`owner`); a service
    without the route (404) has none."""
    found = []
    for service in SERVICES:
        try:
            items = calls.get(service, path)
        except Refused as exc:
            if exc.status != 404:
                raise
            continue
        found += [{**item, "owner": service} for item in items]
    return found


def links(calls: Calls) -> list[dict[str, Any]]:
    """Every switchable link of every service, each with the service that owns it."""
    return _of_every_service(calls, "/operator/links")


def switch_link(calls: Calls, service: Service, link: str, mode: str) -> dict[str, Any]:
    found: dict[str, Any] = calls.put(service, f"/operator/links/{link}", {"mode": mode})
    return found


def event_versions(calls: Calls) -> list[dict[str, Any]]:
    """Which version of each event family every service produces now."""
    return _of_every_service(calls, "/operator/event-versions")


def switch_event_version(
    calls: Calls, service: Service, family: str, version: int
) -> dict[str, Any]:
    found: dict[str, Any] = calls.put(
        service, f"/operator/event-versions/{family}", {"version": version}
    )
    return found
