"""How exercises learns the version of a v0 leak report from hiring, with hiring faked at the
HTTP transport: an exact answer is kept; no answer is an error to retry, never a guess."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from teacher_hiring.exercises.adapters.hiring_client import HiringCompletions
from teacher_hiring.exercises.domain.errors import LeakNotConfirmed
from teacher_hiring.runtime.link_calls import (
    ReceiverRefused,
    ReceiverTimedOut,
    ReceiverUnavailable,
)

PATH = "/exercises/e1/completions/c1"
Hiring = Callable[[httpx.Request], httpx.Response]


def client(answer: Hiring) -> tuple[HiringCompletions, list[str]]:
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return answer(request)

    transport = httpx.MockTransport(handle)
    return HiringCompletions("http://hiring.example", 0.5, transport=transport), asked


def answering(response: httpx.Response) -> Hiring:
    return lambda _request: response


def completion(version: int, leaked: bool = True) -> httpx.Response:
    body = {"exercise_id": "e1", "candidate_id": "c1", "exercise_version": version}
    return httpx.Response(200, json={**body, "leaked": leaked})


def test_the_version_hiring_recorded_is_the_answer_and_is_asked_once() -> None:
    hiring, asked = client(answering(completion(3)))

    assert hiring.leaked_version("e1", "c1") == 3
    assert hiring.leaked_version("e1", "c1") == 3
    assert asked == [PATH]


def test_a_completion_hiring_does_not_hold_leaked_is_not_confirmed() -> None:
    for answer in (completion(2, leaked=False), httpx.Response(404, json={"detail": "no"})):
        hiring, _ = client(answering(answer))
        with pytest.raises(LeakNotConfirmed) as refused:
            hiring.leaked_version("e1", "c1")
        assert refused.value.extra["field"] == "candidate_id"


def test_hiring_failing_or_answering_nonsense_is_refused_not_guessed() -> None:
    for answer in (httpx.Response(503), httpx.Response(200, json={"exercise_version": "two"})):
        hiring, asked = client(answering(answer))
        with pytest.raises(ReceiverRefused):
            hiring.leaked_version("e1", "c1")
        with pytest.raises(ReceiverRefused):
            hiring.leaked_version("e1", "c1")
        assert len(asked) == 2  # a failure is not kept: the next attempt asks again


def test_hiring_unreachable_or_too_slow_is_named() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    for fail, error in ((unreachable, ReceiverUnavailable), (slow, ReceiverTimedOut)):
        hiring, _ = client(fail)
        with pytest.raises(error) as failed:
            hiring.leaked_version("e1", "c1")
        assert failed.value.extra["service"] == "hiring"
