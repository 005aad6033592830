"""One typed client over the three services' HTTP APIs, called as the signed-in person.

The services remain the only source of business data: a page reads and acts through them.
Every call carries a bearer token minted here for the person (runtime.tokens, the platform's
secret): short-lived, re-minted before it runs out, never shown to anyone. A service that does
not answer is ServiceDown (a 503 page naming it); a refusal is Refused with the service's
status and error name, for the page to turn into a message next to the field it concerns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any, Literal

import httpx
from fastapi import Request
from pydantic import BaseModel

from teacher_hiring.runtime.origins import Origins
from teacher_hiring.runtime.tokens import Role, Tokens
from teacher_hiring.web.auth import Person
from teacher_hiring.web.settings import WebSettings

Service = Literal["exercises", "hiring", "bonus"]
SERVICES: tuple[Service, ...] = ("exercises", "hiring", "bonus")


VERSIONS_KEPT = 10_000
"""Exercise versions kept for the verdict page (Api.remember); then they are read again."""


class ServiceDown(Exception):
    """A service did not answer (refused the connection, timed out, or answered 5xx)."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason


class Refused(Exception):
    """A service answered with a 4xx: `error` is its error name (StaleExerciseVersion...)."""

    def __init__(self, service: str, status: int, body: Mapping[str, Any]) -> None:
        self.service = service
        self.status = status
        self.body = dict(body)
        self.error = str(body.get("error", ""))
        self.detail = body.get("detail")
        super().__init__(f"{service}: {status} {self.error} {self.detail}")

    @property
    def message(self) -> str:
        """The service's explanation as text (a validation error's first message)."""
        detail = self.detail
        if isinstance(detail, list) and detail:
            first = detail[0]
            return str(first.get("msg", first)) if isinstance(first, dict) else str(first)
        return str(detail or self.error or f"refused ({self.status})")


# -- what the pages read (the fields they use; the services send more) ---------------------


class AssignedExercise(BaseModel):
    exercise_id: str
    title: str
    version: int


class RegisteredCandidate(BaseModel):
    id: str
    name: str
    email: str
    subject: str | None
    status: str
    exercises: list[AssignedExercise]


class CandidateExercise(BaseModel):
    exercise_id: str
    title: str | None
    version: int | None
    solved: bool
    solved_version: int | None
    solved_at: str | None


class Candidate(BaseModel):
    id: str
    name: str
    email: str
    subject: str | None
    status: str
    created_at: str
    updated_at: str
    became_teacher_at: str | None = None
    exercises: list[CandidateExercise]


class ExerciseToSolve(BaseModel):
    exercise_id: str
    title: str
    statement: str
    subject: str
    difficulty: int
    version: int
    solved: bool
    attempts_left: int


class Verdict(BaseModel):
    submission_id: str
    exercise_id: str
    exercise_version: int
    correct: bool
    attempt: int
    attempts_left: int
    solved: bool
    candidate_status: str
    replayed: bool


class SubmissionRecord(BaseModel):
    submission_id: str
    exercise_id: str
    exercise_version: int
    correct: bool
    attempt: int
    submitted_at: str


class SubmissionHistory(BaseModel):
    candidate_id: str
    items: list[SubmissionRecord]


# -- the client ------------------------------------------------------------------------------


class PersonTokens:
    """Tokens for the people signed in to this process, each re-minted at half its life."""

    def __init__(self, tokens: Tokens, ttl_s: float) -> None:
        self._tokens = tokens
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._cache: dict[tuple[Role, str, Service], tuple[str, float]] = {}

    def token(self, role: Role, subject: str, service: Service) -> str:
        """A token naming the person, for `service` alone (its `aud`)."""
        now = time.time()
        key = (role, subject, service)
        with self._lock:
            found = self._cache.get(key)
            if found is not None and now < found[1]:
                return found[0]
            if len(self._cache) > 10_000:
                self._cache.clear()
            token = self._tokens.mint(role, subject, self._ttl_s, now=now, audience=service)
            self._cache[key] = (token, now + self._ttl_s / 2)
            return token


class Api:
    """The services' APIs for one web process: a connection pool per service."""

    def __init__(self, settings: WebSettings, transport: httpx.BaseTransport | None = None):
        self.urls: dict[Service, str] = {
            "exercises": settings.exercises_url,
            "hiring": settings.hiring_url,
            "bonus": settings.bonus_url,
        }
        self.tokens = PersonTokens(settings.tokens(), settings.person_token_ttl_s)
        self.origins = Origins(settings.secret)
        self.clients = {
            name: httpx.Client(base_url=url, timeout=settings.api_timeout_s, transport=transport)
            for name, url in self.urls.items()
        }
        self._versions: dict[tuple[str, int], ExerciseToSolve] = {}

    def remember(self, exercises: list[ExerciseToSolve]) -> None:
        """Keep what an exercise's version says: a version never changes once saved."""
        if len(self._versions) > VERSIONS_KEPT:
            self._versions.clear()
        for exercise in exercises:
            self._versions[exercise.exercise_id, exercise.version] = exercise

    def seen(self, exercise_id: str, version: int) -> ExerciseToSolve | None:
        """A version of an exercise as some candidate's page last read it (its statement,
        title, subject and difficulty; attempts left and solved are that candidate's)."""
        return self._versions.get((exercise_id, version))

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def as_person(self, person: Person | None, client_host: str | None = None) -> Calls:
        """Calls made as `person` (None: anonymously, for registration), from the browser at
        `client_host`, whose origin each call forwards (runtime.origins)."""
        return Calls(self, person, client_host)


def api_of(request: Request) -> Api:
    """The web process's client of the services (built once by create_app)."""
    api: Api = request.app.state.api
    return api


class Calls:
    """The calls of one request, as one person."""

    def __init__(self, api: Api, person: Person | None, client_host: str | None = None) -> None:
        self.api = api
        self.person = person
        self.client_host = client_host

    def authorization(self, service: Service) -> dict[str, str]:
        """The person's bearer token for `service` (none for an anonymous call), and the
        origin of their address with its proof over that token (none for the machine's own)."""
        token = None
        if self.person is not None:
            token = self.api.tokens.token(self.person.role, self.person.subject_id, service)
        origin = self.api.origins.forwarded(self.client_host, token)
        return origin if token is None else {"Authorization": f"Bearer {token}", **origin}

    def request(
        self,
        service: Service,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The JSON of a 2xx answer; Refused for a 4xx; ServiceDown when it cannot answer."""
        try:
            response = self.api.clients[service].request(
                method,
                path,
                json=json,
                params=params,
                headers={**self.authorization(service), **(headers or {})},
            )
        except httpx.TimeoutException as exc:
            raise ServiceDown(service, "did not answer in time") from exc
        except httpx.TransportError as exc:
            raise ServiceDown(service, "is not reachable") from exc
        if response.status_code >= 500:
            raise ServiceDown(service, f"answered {response.status_code}")
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"detail": response.text[:500]}
            raise Refused(service, response.status_code, body if isinstance(body, dict) else {})
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, service: Service, path: str, **params: Any) -> Any:
        return self.request(service, "GET", path, params=params or None)

    def post(self, service: Service, path: str, json: Any = None) -> Any:
        return self.request(service, "POST", path, json=json)

    def put(self, service: Service, path: str, json: Any = None) -> Any:
        return self.request(service, "PUT", path, json=json)

    def patch(self, service: Service, path: str, json: Any = None) -> Any:
        return self.request(service, "PATCH", path, json=json)

    def delete(self, service: Service, path: str) -> Any:
        return self.request(service, "DELETE", path)

    # -- hiring: candidates ------------------------------------------------------------------

    def register_candidate(
        self, name: str, email: str, subject: str | None, idempotency_key: str
    ) -> RegisteredCandidate:
        """The same key and body again answer the registration it made (hiring's replay)."""
        body = {"name": name, "email": email, "subject": subject}
        key = {"Idempotency-Key": idempotency_key}
        found = self.request("hiring", "POST", "/candidates", json=body, headers=key)
        return RegisteredCandidate.model_validate(found)

    def candidate(self, candidate_id: str) -> Candidate:
        return Candidate.model_validate(self.get("hiring", f"/candidates/{candidate_id}"))

    def exercises_to_solve(self, candidate_id: str) -> list[ExerciseToSolve]:
        found = self.get("hiring", f"/candidates/{candidate_id}/exercises")
        exercises = [ExerciseToSolve.model_validate(item) for item in found]
        self.api.remember(exercises)
        return exercises

    def submit(
        self,
        candidate_id: str,
        exercise_id: str,
        version: int,
        answer: str,
        idempotency_key: str | None = None,
    ) -> Verdict:
        body = {"exercise_id": exercise_id, "exercise_version": version, "answer": answer}
        key = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        found = self.request(
            "hiring", "POST", f"/candidates/{candidate_id}/submissions", json=body, headers=key
        )
        return Verdict.model_validate(found)

    def submissions(self, candidate_id: str) -> SubmissionHistory:
        found = self.get("hiring", f"/candidates/{candidate_id}/submissions")
        return SubmissionHistory.model_validate(found)
