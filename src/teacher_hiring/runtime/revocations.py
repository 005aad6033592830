"""Revoking a person's tokens: a not-before time per subject, honoured by every service.

An operator revokes a candidate's, a manager's or an operator's tokens on every service
(`POST /operator/revocations`, `teacher-hiring token revoke ROLE ID`): each service keeps the
time in its own database, in the table of its runtime flags (a row `revoked.<role>.<subject>`,
so no migration), and refuses every token of that subject minted before it (`iat`). Every
instance of the service reads the rows again at most `ttl_s` after its last read, so a
revocation reaches all of them within that time. A token minted afterwards (a new sign-in to
the web pages, a new registration) is accepted: revocation ends the tokens that exist.
"""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from teacher_hiring.foundation.sql import read_only
from teacher_hiring.runtime.flags import runtime_flags, store_flag
from teacher_hiring.runtime.tokens import Role

PREFIX = "revoked."
MAX_SUBJECT = 80
"""A revoked subject's length at most (the flags' names hold 100 characters)."""
TTL_S = 1.0
"""How stale an instance's view of the revocations may be."""


def flag_name(role: Role, subject: str) -> str:
    return f"{PREFIX}{Role(role).value}.{subject}"


class Revocations:
    """The not-before times of one service, cached for `ttl_s`."""

    def __init__(self, engine: Engine, ttl_s: float = TTL_S) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._cache: dict[str, float] = {}
        self._read_at = float("-inf")

    def revoke(self, role: Role, subject: str, at: float | None = None) -> float:
        """Refuse every token of `subject` minted before `at` (now); returns `at`."""
        if not subject or len(subject) > MAX_SUBJECT:
            raise ValueError(f"subject: between 1 and {MAX_SUBJECT} characters")
        not_before = time.time() if at is None else at
        store_flag(self.engine, flag_name(role, subject), repr(not_before), not_before)
        with self._lock:
            self._read_at = float("-inf")
        return not_before

    def not_before(self, role: Role, subject: str) -> float | None:
        """The time before which `subject`'s tokens are refused, or None."""
        with self._lock:
            if time.monotonic() - self._read_at > self.ttl_s:
                self._cache = self._read()
                self._read_at = time.monotonic()
            return self._cache.get(flag_name(role, subject))

    def _read(self) -> dict[str, float]:
        query = sa.select(runtime_flags.c.name, runtime_flags.c.value).where(
            runtime_flags.c.name.startswith(PREFIX, autoescape=True)
        )
        with read_only(self.engine) as conn:
            return {row.name: float(row.value) for row in conn.execute(query)}
