"""The simulation's candidates and managers, working through the faults for a given time.

They are the simulation's own actors (teacher_hiring.simulation): managers write exercises
and complicate the leaked ones, candidates register and answer. Two things change under
faults. They reach each service at its one address (the platform's proxy when it runs several
instances), and their HTTP clients behave as a patient user's would: a request that meets a
dead process (its connection dropped) or a 5xx is sent again, the same request with the same
Idempotency-Key, and the proxy hands it to a live instance (or the same one once it is back).
And every verdict a candidate was given is written down, so that the checks can ask hiring
for each of them.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from rich.console import Console

from teacher_hiring.chaos.checks import Accepted
from teacher_hiring.simulation import Simulation, SimulationConfig, _items, _ok

RETRY_PAUSE_S = 0.25
ALREADY_SAVED = '"error":"NothingChanged"'


class PatientClient(httpx.Client):
    """Sends a request again, unchanged, while it meets a dead process or a 5xx, for up to
    `patience_s`; with several `bases`, spreads requests over them in turn. The last answer
    (or transport error) is the caller's when patience runs out."""

    def __init__(
        self,
        bases: Sequence[str],
        *,
        patience_s: float,
        retries: Counter[str],
        lock: threading.Lock,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._bases = [base.rstrip("/") for base in bases]
        self._turn = itertools.count()
        self._patience_s = patience_s
        self._retries = retries
        self._lock = lock

    def request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Response:
        deadline = time.monotonic() + self._patience_s
        first = next(self._turn)
        for attempt in itertools.count():
            base = self._bases[(first + attempt) % len(self._bases)]
            target = str(url) if str(url).startswith("http") else base + str(url)
            try:
                response = super().request(method, target, **kwargs)
                if response.status_code < 500 or time.monotonic() > deadline:
                    return response
                outcome = f"HTTP {response.status_code}"
            except httpx.TransportError as exc:
                if time.monotonic() > deadline:
                    raise
                outcome = type(exc).__name__
            with self._lock:
                self._retries[outcome] += 1
            time.sleep(RETRY_PAUSE_S)
        raise AssertionError("unreachable")


class ChaosUsers(Simulation):
    """Candidates keep coming until `stop` is set; managers complicate what leaks."""

    def __init__(
        self,
        config: SimulationConfig,
        urls: Mapping[str, Sequence[str]],
        *,
        patience_s: float = 90.0,
        console: Console | None = None,
    ) -> None:
        super().__init__(config, console)
        self.retries: Counter[str] = Counter()
        self.errors: list[str] = []
        self.accepted: list[Accepted] = []
        self._seeds = itertools.count()
        limits = httpx.Limits(max_connections=config.concurrency * 2 + 4)
        for name in ("exercises", "hiring", "bonus"):
            old: httpx.Client = getattr(self, name)
            patient = PatientClient(
                urls[name],
                patience_s=patience_s,
                retries=self.retries,
                lock=self._lock,
                timeout=10,
                limits=limits,
                headers=old.headers,  # whatever the simulation sends with every request
            )
            old.close()
            setattr(self, name, patient)

    def _answered(self, candidate_id: str, verdict: Mapping[str, Any]) -> None:
        accepted = Accepted(
            candidate_id=candidate_id,
            submission_id=str(verdict["submission_id"]),
            exercise_id=str(verdict["exercise_id"]),
            exercise_version=int(verdict["exercise_version"]),
            correct=bool(verdict["correct"]),
        )
        with self._lock:
            self.accepted.append(accepted)

    def prepare(self) -> None:
        """Managers and exercises, known to hiring before the first candidate comes."""
        self._assignments_before = len(_items(_ok(self.exercises.get("/assignments"))))
        manager_ids = self._create_managers()
        exercise_ids = self._create_exercises(manager_ids)
        self._wait_for_hiring_to_know(exercise_ids, timeout_s=120.0)

    def work(self, stop: threading.Event) -> None:
        """Candidates, `concurrency` at a time, until `stop`; the one at work finishes."""
        complicator = threading.Thread(target=self._complicate_loop, name="managers")
        complicator.start()
        try:
            with ThreadPoolExecutor(self.config.concurrency) as pool:
                for _ in range(self.config.concurrency):
                    pool.submit(self._candidates_until, stop)
        finally:
            self._done.set()
            complicator.join()

    def _candidates_until(self, stop: threading.Event) -> None:
        while not stop.is_set():
            with self._lock:
                number = next(self._seeds)
                seed = self.rng.randrange(2**32)
            try:
                self._one_candidate(number, seed)
            except Exception as exc:  # counted and shown; the run goes on with the next
                with self._lock:
                    self.errors.append(f"candidate {number + 1}: {exc}"[:300])

    def _complicate_loop(self) -> None:
        while not self._done.wait(0.2):
            try:
                self._complicate_open_assignments()
            except Exception as exc:
                if ALREADY_SAVED in str(exc):
                    # The save was sent again after its answer was lost (the process died
                    # after committing it): the new version is there; the next round sees
                    # the assignment closed.
                    self._count("complications_sent_again")
                    continue
                with self._lock:
                    self.errors.append(f"manager: {exc}"[:300])
