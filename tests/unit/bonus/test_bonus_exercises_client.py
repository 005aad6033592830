"""COMM-070: the exercises client answers from its cache, and a failure is just 'unknown'."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY

from teacher_hiring.bonus.adapters.exercises_client import ExercisesClient
from teacher_hiring.bonus.domain.model import Manager


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def calls(outcome: str) -> float:
    labels = {"service": "bonus", "outcome": outcome}
    value = REGISTRY.get_sample_value("exercises_http_calls_total", labels)
    return 0.0 if value is None else float(value)


def client(handler: httpx.MockTransport, clock: Clock) -> ExercisesClient:
    return ExercisesClient(
        "http://exercises.test/",
        timeout_s=0.3,
        ttl_s=60,
        failure_ttl_s=5,
        max_entries=2,
        transport=handler,
        clock=clock,
    )


def test_a_manager_is_fetched_once_within_the_ttl_and_again_after_it() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"manager_id": "m/1", "name": "Anna", "email": "a@x.io"})

    clock = Clock()
    exercises = client(httpx.MockTransport(answer), clock)
    before = calls("ok")

    assert exercises.manager("m/1") == Manager("Anna", "", "a@x.io")
    clock.now += 59
    assert exercises.manager("m/1") == Manager("Anna", "", "a@x.io")
    clock.now += 2
    exercises.manager("m/1")

    assert seen == ["/managers/m%2F1", "/managers/m%2F1"]
    assert calls("ok") == before + 2


def test_a_failure_is_none_and_is_remembered_briefly() -> None:
    attempts = 0

    def fail(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.ConnectError("refused", request=request)

    clock = Clock()
    exercises = client(httpx.MockTransport(fail), clock)
    before = calls("error")

    assert exercises.manager("anna") is None
    assert exercises.manager("anna") is None
    clock.now += 6
    assert exercises.manager("anna") is None

    assert attempts == 2
    assert calls("error") == before + 2


def test_unknown_managers_and_bad_answers_are_none() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/gone"):
            return httpx.Response(404, json={"detail": "no such manager"})
        if request.url.path.endswith("/broken"):
            return httpx.Response(500)
        return httpx.Response(200, content=b"not json")

    exercises = client(httpx.MockTransport(answer), Clock())
    before = calls("not_found")

    assert exercises.manager("gone") is None
    assert exercises.manager("broken") is None
    assert exercises.manager("garbled") is None
    assert calls("not_found") == before + 1


def test_a_manager_of_us_170_keeps_first_and_last_name_and_team() -> None:
    def answer(_request: httpx.Request) -> httpx.Response:
        body = {"first_name": "Anna", "last_name": "Petrova", "team": "math", "email": "a@x.io"}
        return httpx.Response(200, json=body)

    exercises = client(httpx.MockTransport(answer), Clock())
    found = exercises.manager("anna")
    assert found == Manager("Anna", "Petrova", "a@x.io", "math")
    assert found is not None and found.name == "Anna Petrova"


def test_an_older_full_name_is_split_as_the_upcaster_splits_it() -> None:
    def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"name": "Anna Maria Petrova", "email": "a@x.io"})

    exercises = client(httpx.MockTransport(answer), Clock())
    assert exercises.manager("anna") == Manager("Anna", "Maria Petrova", "a@x.io")


def test_the_cache_keeps_at_most_max_entries() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"name": "N", "email": "n@x.io"})

    exercises = client(httpx.MockTransport(answer), Clock())
    for manager_id in ("a", "b", "c", "a"):
        exercises.manager(manager_id)

    assert seen == ["/managers/a", "/managers/b", "/managers/c", "/managers/a"]
