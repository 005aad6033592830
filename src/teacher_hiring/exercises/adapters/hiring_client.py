"""Which exercise version a leak report of v0 concerned, read from hiring's own records.

A v0 ExerciseCompletedMoreThenTenTimes names the exercise and the candidate whose solution was
the eleventh, not the version. hiring recorded that completion with its version, and marked the
version leaked, in the transaction that produced the report; `GET /exercises/{id}/completions/
{candidate}` (with this service's token) reads both. The answer is exact and compares no clock
of either host. It never changes once given (a completion is recorded once), so it is kept.

hiring unreachable, too slow or failing is a CallFailed naming hiring (503, 504, 502): the
event consumer retries the report and then keeps it with the dead letters, to be replayed once
hiring answers; the synchronous endpoint answers with that status and its caller retries. A
leak report is never dropped for want of an answer.
"""

from __future__ import annotations

import threading
from urllib.parse import quote

import httpx

from teacher_hiring.exercises.domain.errors import LeakNotConfirmed
from teacher_hiring.messaging.sinks import PushRefused, PushTimedOut, PushUnreachable
from teacher_hiring.runtime.link_calls import call_failed

COMPLETION_PATH = "/exercises/{exercise_id}/completions/{candidate_id}"
NOT_OPENED = "the leak report is kept and nothing was opened yet"


class HiringCompletions:
    """A short-timeout HTTP client of hiring's completions, remembering the answers it got."""

    def __init__(
        self,
        base_url: str,
        timeout_s: float,
        auth: httpx.Auth | None = None,
        *,
        max_entries: int = 10_000,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._client = httpx.Client(timeout=timeout_s, auth=auth, transport=transport)
        self._known: dict[tuple[str, str], int] = {}
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def leaked_version(self, exercise_id: str, candidate_id: str) -> int:
        """The version the candidate's completion leaked.

        Raises LeakNotConfirmed when hiring holds no such completion, or holds its version
        as not leaked; CallFailed when hiring cannot say now.
        """
        with self._lock:
            known = self._known.get((exercise_id, candidate_id))
        if known is not None:
            return known
        version = self._ask(exercise_id, candidate_id)
        with self._lock:
            if len(self._known) >= self._max_entries:
                self._known.clear()
            self._known[(exercise_id, candidate_id)] = version
        return version

    def _ask(self, exercise_id: str, candidate_id: str) -> int:
        url = self.base_url + COMPLETION_PATH.format(
            exercise_id=quote(exercise_id, safe=""), candidate_id=quote(candidate_id, safe="")
        )
        try:
            response = self._client.get(url)
        except httpx.TimeoutException as exc:
            problem: Exception = PushTimedOut(f"GET {url}: no answer within {self.timeout_s} s")
            raise call_failed("hiring", problem, NOT_OPENED) from exc
        except httpx.HTTPError as exc:
            raise call_failed("hiring", PushUnreachable(f"GET {url}: {exc}"), NOT_OPENED) from exc
        if response.status_code == 404:
            raise LeakNotConfirmed(exercise_id, candidate_id, "no such completion")
        try:
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}")
            body = response.json()
            version, leaked = int(body["exercise_version"]), body["leaked"] is True
        except (ValueError, TypeError, KeyError) as exc:
            status = response.status_code
            problem = PushRefused(f"GET {url}: HTTP {status}: {response.text[:200]}", status)
            raise call_failed("hiring", problem, NOT_OPENED) from exc
        if not leaked:
            raise LeakNotConfirmed(exercise_id, candidate_id, f"version {version} is not leaked")
        return version

    def close(self) -> None:
        self._client.close()
