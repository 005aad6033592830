"""A realistic run of the platform's users against running services, over HTTP only.

Managers write exercises; candidates register, read their exercises and answer, right with a
given chance per attempt; managers complicate the exercises that leak. At the end the bonus
ledger must hold exactly what hiring and exercises issued.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

MONEY_FIELDS = ("bonus_cents", "fine_cents", "payment_cents")
SUBJECTS = ("mathematics", "physics", "general")
TEAMS = ("mathematics", "sciences")


@dataclass(frozen=True)
class SimulationConfig:
    candidates: int = 200
    managers: int = 4
    exercises: int = 12
    skill: float = 0.6
    concurrency: int = 8
    seed: int = 1
    settle_timeout_s: float = 60.0
    exercises_url: str = "http://127.0.0.1:8701"
    hiring_url: str = "http://127.0.0.1:8702"
    bonus_url: str = "http://127.0.0.1:8703"
    operator_token: str | None = field(default=None, repr=False)
    """Creates the managers and reads the totals; None: minted with TEACHER_HIRING_AUTH_SECRET.
    Managers act with the token of their creation, candidates with that of their registration."""


@dataclass
class Report:
    counts: Counter[str] = field(default_factory=Counter)
    issued: dict[str, dict[str, int]] = field(default_factory=dict)
    ledger: dict[str, dict[str, int]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    settle_seconds: float = 0.0

    @property
    def ledger_matches(self) -> bool:
        return all(
            self.issued.get(m, {}).get(f, 0) == self.ledger.get(m, {}).get(f, 0)
            for m in set(self.issued) | set(self.ledger)
            for f in MONEY_FIELDS
        )

    def print(self, console: Console) -> None:
        summary = Table(title=f"simulation ({self.seconds:.1f} s)")
        summary.add_column("what")
        summary.add_column("count", justify="right")
        for key in sorted(self.counts):
            summary.add_row(key.replace("_", " "), str(self.counts[key]))
        rate = self.counts["submissions"] / self.seconds if self.seconds else 0.0
        summary.add_row("submissions per second", f"{rate:.0f}")
        summary.add_row("ledger caught up after (s)", f"{self.settle_seconds:.2f}")
        console.print(summary)
        money = Table(
            title="money per manager: issued by hiring and exercises / in the bonus ledger"
        )
        money.add_column("manager")
        for name in ("bonuses", "fines", "payments"):
            money.add_column(name, justify="right")
        money.add_column("balance", justify="right")
        money.add_column("match")
        for manager in sorted(set(self.issued) | set(self.ledger)):
            issued, booked = self.issued.get(manager, {}), self.ledger.get(manager, {})
            cells = [
                f"{_money(issued.get(f, 0))} / {_money(booked.get(f, 0))}" for f in MONEY_FIELDS
            ]
            ok = all(issued.get(f, 0) == booked.get(f, 0) for f in MONEY_FIELDS)
            money.add_row(
                self.names.get(manager, manager),
                *cells,
                _money(booked.get("balance_cents", 0)),
                "[green]yes[/green]" if ok else "[red]NO[/red]",
            )
        console.print(money)
        verdict = "[green]matches[/green]" if self.ledger_matches else "[red]DOES NOT MATCH[/red]"
        console.print(f"bonus ledger vs issued money: {verdict}")


class Simulation:
    def __init__(self, config: SimulationConfig, console: Console | None = None) -> None:
        self.config = config
        self.console = console or Console()
        self.rng = random.Random(config.seed)
        self.report = Report()
        self._answers: dict[tuple[str, int], str] = {}
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._assignments_before = 0
        self._tokens: dict[str, dict[str, str]] = {}  # a manager's or candidate's header
        operator = _bearer(config.operator_token or _operator_token())
        limits = httpx.Limits(max_connections=config.concurrency * 2 + 4)
        self.exercises = httpx.Client(
            base_url=config.exercises_url, timeout=10, limits=limits, headers=operator
        )
        self.hiring = httpx.Client(
            base_url=config.hiring_url, timeout=10, limits=limits, headers=operator
        )
        self.bonus = httpx.Client(base_url=config.bonus_url, timeout=10, headers=operator)

    def _as(self, person_id: str) -> dict[str, str]:
        """The header of a manager or candidate of this run; an operator's for anyone else."""
        with self._lock:
            return self._tokens.get(person_id, {})

    def _keep_token(self, created: Mapping[str, Any]) -> None:
        with self._lock:
            self._tokens[str(created["id"])] = _bearer(str(created["access_token"]))

    # -- the whole run ---------------------------------------------------------------------------

    def run(self) -> Report:
        started = time.monotonic()
        self._assignments_before = len(_items(_ok(self.exercises.get("/assignments"))))
        manager_ids = self._create_managers()
        exercise_ids = self._create_exercises(manager_ids)
        self._wait_for_hiring_to_know(exercise_ids)
        complicator = threading.Thread(target=self._complicate_loop, name="managers")
        complicator.start()
        try:
            self._candidates_work()
        finally:
            self._done.set()
            complicator.join()
        self._complicate_open_assignments()
        self.report.seconds = time.monotonic() - started
        self._settle()
        return self.report

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.report.counts[key] += n

    # -- managers --------------------------------------------------------------------------------

    def _create_managers(self) -> list[str]:
        ids = []
        for i in range(self.config.managers):
            body = {
                "first_name": f"Manager {i + 1}",
                "last_name": f"(sim {self.config.seed})",
                "team": TEAMS[i % len(TEAMS)],
                "email": f"manager{i + 1}.{self.config.seed}@school.example",
            }
            manager = _ok(self.exercises.post("/managers", json=body))
            self._keep_token(manager)
            ids.append(manager["id"])
            self.report.names[manager["id"]] = manager["name"]

        self._count("managers", len(ids))
        return ids

    def _create_exercises(self, manager_ids: list[str]) -> list[str]:
        ids = []
        for i in range(self.config.exercises):
            answer = f"answer {i + 1} {self.rng.randrange(10**6)}"
            author_id = manager_ids[i % len(manager_ids)]
            body = {
                "author_id": author_id,
                "title": f"Exercise {i + 1}",
                "statement": f"Solve exercise {i + 1}.",
                "accepted_answers": [answer],
                "check_mode": "normalized",
                "subject": SUBJECTS[i % len(SUBJECTS)],
                "difficulty": 1 + self.rng.randrange(5),
            }
            exercise = _ok(
                self.exercises.post("/exercises", json=body, headers=self._as(author_id))
            )
            with self._lock:
                self._answers[(exercise["id"], exercise["version"])] = answer
            ids.append(exercise["id"])
        self._count("exercises_written", len(ids))
        return ids

    def _wait_for_hiring_to_know(self, exercise_ids: list[str], timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        wanted = set(exercise_ids)
        while time.monotonic() < deadline:
            known = {item["exercise_id"] for item in _items(_ok(self.hiring.get("/exercises")))}
            if wanted <= known:
                return
            time.sleep(0.05)
        raise TimeoutError("hiring did not receive the exercises in time")

    def _complicate_loop(self) -> None:
        while not self._done.wait(0.2):
            self._complicate_open_assignments()

    def _complicate_open_assignments(self) -> None:
        response = self.exercises.get("/assignments", params={"status": "open"})
        for assignment in _items(_ok(response)):
            self._complicate(assignment)

    def _complicate(self, assignment: Mapping[str, Any]) -> None:
        exercise_id = assignment["exercise_id"]
        answer = f"harder answer {self.rng.randrange(10**9)}"
        body = {
            "editor_id": assignment["assignee_id"],
            "statement": f"A harder statement ({answer[-4:]}).",
            "accepted_answers": [answer],
        }
        response = self.exercises.put(
            f"/exercises/{exercise_id}", json=body, headers=self._as(body["editor_id"])
        )
        exercise = _ok(response)
        with self._lock:
            self._answers[(exercise_id, exercise["version"])] = answer
        self._count("exercises_complicated")

    # -- candidates ------------------------------------------------------------------------------

    def _candidates_work(self) -> None:
        seeds = [self.rng.randrange(2**32) for _ in range(self.config.candidates)]
        with Progress(console=self.console, transient=False) as progress:
            task = progress.add_task("candidates solving", total=self.config.candidates)
            with ThreadPoolExecutor(self.config.concurrency) as pool:
                for _ in pool.map(self._one_candidate, range(len(seeds)), seeds):
                    progress.advance(task)

    def _one_candidate(self, number: int, seed: int) -> None:
        rng = random.Random(seed)
        body: dict[str, str] = {
            "name": f"Candidate {number + 1}",
            # one candidate per email (hiring answers 409): unique across runs on one platform
            "email": f"candidate{number + 1}.{seed:x}.{uuid.uuid4().hex[:8]}@mail.example",
        }
        subjects = SUBJECTS[: min(len(SUBJECTS), self.config.exercises)]
        if rng.random() < 0.5:  # half of them teach a subject (US-160), the others any
            body["subject"] = rng.choice(subjects)
        candidate = self._register(body)
        self._keep_token(candidate)
        self._count("candidates")
        for exercise in candidate["exercises"]:
            self._solve(candidate["id"], exercise["exercise_id"], exercise["version"], rng)
        final = _ok(
            self.hiring.get(f"/candidates/{candidate['id']}", headers=self._as(candidate["id"]))
        )
        if final["status"] == "teacher":
            self._count("teachers")

    def _answer_for(self, exercise_id: str, version: int) -> str:
        """The right answer; for an exercise this run did not write, as a cheater would get it."""
        with self._lock:
            known = self._answers.get((exercise_id, version))
        if known is not None:
            return known
        exercise = _ok(self.exercises.get(f"/exercises/{exercise_id}"))
        answer = str(exercise["accepted_answers"][0])
        with self._lock:
            self._answers[(exercise_id, int(exercise["version"]))] = answer
        return answer if int(exercise["version"]) == version else ""

    def _register(self, body: dict[str, str], patience_s: float = 60.0) -> Any:
        """Register; while every exercise waits for its complication, or a registration limit
        is reached (docs/security.md), come back when the answer's Retry-After says.

        One Idempotency-Key for every try: a try whose answer was lost (a retry after a dead
        process, in the chaos run) is answered with the registration it made."""
        deadline = time.monotonic() + patience_s
        key = {"Idempotency-Key": uuid.uuid4().hex}
        while True:
            response = self.hiring.post("/candidates", json=body, headers=key)
            postponed = response.status_code in (409, 429) and "Retry-After" in response.headers
            if not postponed or time.monotonic() > deadline:
                return _ok(response)
            limited = response.status_code == 429
            self._count("registrations_limited" if limited else "registrations_postponed")
            wait = float(response.headers["Retry-After"]) if limited else 0.2
            time.sleep(max(0.0, min(wait, deadline - time.monotonic())))

    def _solve(self, candidate_id: str, exercise_id: str, version: int, rng: random.Random) -> None:
        for _ in range(20):
            answer = self._answer_for(exercise_id, version)
            if rng.random() >= self.config.skill:
                answer = f"wrong {rng.randrange(10**6)}"
            # A key per answer: a client that sends it again (a retry after a timeout, a load
            # balancer trying another instance) gets the stored verdict, not a second attempt.
            response = self.hiring.post(
                f"/candidates/{candidate_id}/submissions",
                json={"exercise_id": exercise_id, "exercise_version": version, "answer": answer},
                headers={"Idempotency-Key": uuid.uuid4().hex} | self._as(candidate_id),
            )
            if response.status_code == 409 and "current_version" in response.json():
                self._count("stale_versions_refused")
                version = response.json()["current_version"]
                continue
            if response.status_code == 429:
                self._count("attempt_limits_reached")
                return
            verdict = _ok(response)
            self._answered(candidate_id, verdict)
            self._count("submissions")
            if verdict["correct"]:
                self._count("correct_submissions")
                return
        return

    def _answered(self, candidate_id: str, verdict: Mapping[str, Any]) -> None:
        """Each verdict the candidate was given (a 2xx answer); a hook for runs that check
        afterwards that hiring stored every one of them."""

    # -- the money check ---------------------------------------------------------------------------

    def _issued(self) -> dict[str, dict[str, int]]:
        issued: dict[str, dict[str, int]] = {}
        for source in (self.hiring, self.exercises):
            for manager, totals in _per_manager(_ok(source.get("/totals/issued"))).items():
                row = issued.setdefault(manager, {})
                for name in MONEY_FIELDS:
                    row[name] = row.get(name, 0) + int(totals.get(name, 0))
        return issued

    def _settle(self) -> None:
        started = time.monotonic()
        deadline = started + self.config.settle_timeout_s
        while True:
            self.report.issued = self._issued()
            self.report.ledger = _per_manager(_ok(self.bonus.get("/ledger/totals")))
            if self.report.ledger_matches or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.report.settle_seconds = time.monotonic() - started
        for manager in _items(_ok(self.exercises.get("/managers"))):
            self.report.names.setdefault(manager["id"], manager["name"])
        assignments = _items(_ok(self.exercises.get("/assignments")))
        opened = len(assignments) - self._assignments_before
        self.report.counts["complication_assignments_opened"] = opened


def _money(cents: int) -> str:
    units, rest = divmod(abs(int(cents)), 100)
    return f"{'-' if cents < 0 else ''}{units}.{rest:02d}"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _operator_token() -> str:
    from teacher_hiring.runtime.auth_settings import platform_settings
    from teacher_hiring.runtime.tokens import Role

    # TEACHER_HIRING_AUTH_SECRET (or _FILE), else the secret `teacher-hiring run` made in var/
    return platform_settings().tokens().mint(Role.operator, "simulation", 24 * 3600)


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} -> "
            f"{response.status_code} {response.text[:300]}"
        )
    return response.json()


def _items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return body
    items = body.get("items")
    return list(items) if isinstance(items, Iterable) else []


def _per_manager(body: Any) -> dict[str, dict[str, int]]:
    """Totals keyed by manager id, from either a list of rows or a mapping."""
    rows = _items(body) if isinstance(body, list) or "items" in body else None
    if rows is None:
        source = body.get("managers", body)
        return {str(k): dict(v) for k, v in source.items() if isinstance(v, dict)}
    return {str(row["manager_id"]): dict(row) for row in rows}
