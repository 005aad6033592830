"""What hiring is asked to do, in the imperative."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from teacher_hiring.foundation.records import from_mapping

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def email_key(email: str) -> str:
    """What makes two emails one mailbox, so one person's (one candidate per key): trimmed,
    case-insensitive, without a sub-address (`ivan+2@` is `ivan@`: RFC 5233's `+detail`, which
    the big providers deliver to the same mailbox) and, on Gmail, without the dots it ignores.

    Otherwise a person would register again under `ivan+1@`, `ivan+2@`, ... and get five
    fresh attempts at the same exercises each time (docs/security.md).
    """
    address = email.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return address
    local = local.split("+", 1)[0] or local
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", "") or local, "gmail.com"
    return f"{local}@{domain}"


@dataclass(frozen=True, slots=True)
class RegisterCandidate:
    """`subject`: assign only exercises of this subject (US-160); None: of any subject.

    `registered_by`: the manager whose token the registration carried (None: anyone else);
    `origin`: the registering client's origin (runtime.origins; None: the machine's own).
    Neither is part of the request's fingerprint: they say who sent it, not what it asks.
    """

    name: str
    email: str
    subject: str | None = None
    idempotency_key: str | None = None
    registered_by: str | None = None
    origin: str | None = None

    def fingerprint(self) -> str:
        """What makes two registrations sent with one Idempotency-Key the same request: the
        body's fields as received (the email trimmed), hashed (SHA-256, hex)."""
        body = {"name": self.name, "email": self.email, "subject": self.subject}
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class EraseCandidate:
    """Remove the candidate's name, email and answers everywhere (docs/security.md)."""

    candidate_id: str


@dataclass(frozen=True, slots=True)
class SubmitAnswer:
    candidate_id: str
    exercise_id: str
    exercise_version: int
    answer: str
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class ReplicateExercise:
    """Keep this version of an exercise, if it is newer than the one held."""

    exercise_id: str
    title: str
    statement: str
    accepted_answers: tuple[str, ...]
    check_mode: str
    subject: str
    difficulty: int
    author_id: str
    version: int
    status: str
    updated_at: str

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ReplicateExercise:
        """From an ExerciseCreated or ExerciseUpdated v1 payload (edited_by is not kept)."""
        return from_mapping(cls, payload, accepted_answers=tuple(payload["accepted_answers"]))


@dataclass(frozen=True, slots=True)
class ReplicateManager:
    manager_id: str
    first_name: str
    last_name: str
    team: str | None
    email: str

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ReplicateManager:
        """From a ManagerCreated or ManagerUpdated v1 payload."""
        return from_mapping(cls, payload)
