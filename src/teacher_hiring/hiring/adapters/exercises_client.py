"""COMM-020 in sync mode: hiring reads the exercise to check an answer from exercises.

`GET /exercises/{id}` is the managers' and services' API of exercises, accepted answers
included; hiring keeps them to itself (no response of hiring carries them).
"""

from __future__ import annotations

import httpx

from teacher_hiring.hiring.domain.model import AnswerKey
from teacher_hiring.messaging.sinks import PushRefused, PushTimedOut, PushUnreachable
from teacher_hiring.runtime.link_calls import call_failed

EXERCISE_PATH = "/exercises/{exercise_id}"
NOT_CHECKED = "the answer was not checked and nothing was stored"


class ExercisesReader:
    """A short-timeout HTTP client of exercises; a failure becomes the submission's error."""

    def __init__(self, base_url: str, timeout_s: float, auth: httpx.Auth | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._client = httpx.Client(timeout=timeout_s, auth=auth)

    def answer_key(self, exercise_id: str, trace_id: str | None = None) -> AnswerKey | None:
        """The current version's answers, or None when exercises knows no such exercise.

        Raises CallFailed (504, 503, 502 by how the call failed) naming exercises.
        """
        url = self.base_url + EXERCISE_PATH.format(exercise_id=exercise_id)
        headers = {"x-trace-id": trace_id} if trace_id else {}
        try:
            response = self._client.get(url, headers=headers)
        except httpx.TimeoutException as exc:
            problem: Exception = PushTimedOut(f"GET {url}: no answer within {self.timeout_s} s")
            raise call_failed("exercises", problem, NOT_CHECKED, link="answer-check") from exc
        except httpx.HTTPError as exc:
            problem = PushUnreachable(f"GET {url}: {exc}")
            raise call_failed("exercises", problem, NOT_CHECKED, link="answer-check") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            problem = PushRefused(f"GET {url}: HTTP {response.status_code}", response.status_code)
            raise call_failed("exercises", problem, NOT_CHECKED, link="answer-check")
        body = response.json()
        return AnswerKey(
            version=int(body["version"]),
            accepted_answers=tuple(body["accepted_answers"]),
            check_mode=body["check_mode"],
        )

    def close(self) -> None:
        self._client.close()
