"""Refresh tokens: how a person's short-lived access token is renewed (docs/security.md).

The service that hands a person their first tokens (hiring a candidate at registration,
exercises a manager at creation) also hands out an opaque refresh token: 32 random bytes, of
which it keeps only the SHA-256. `POST /tokens/refresh` exchanges one for a new access token
and a new refresh token of the same family; the one presented is used up. Presenting a used
one again means two holders have it (a copy was stolen): the whole family is revoked, and
both the thief and the person must get new tokens. A refresh token minted at or before a
revocation of its person (runtime/revocations.py) is refused too.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from teacher_hiring.runtime.tokens import Role

metadata = sa.MetaData()
TABLE = "refresh_tokens"
DEFAULT_TTL_S = 30 * 24 * 3600


def refresh_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("family", sa.String(32), nullable=False, index=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("issued_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("used_at", sa.Float, nullable=True),
        sa.Column("revoked_at", sa.Float, nullable=True),
    ]


refresh_tokens = sa.Table(TABLE, metadata, *refresh_columns())


def create_refresh_table(op: object) -> None:
    """Called from a service's Alembic migration (`op` is alembic.op)."""
    op.create_table(TABLE, *refresh_columns())  # type: ignore[attr-defined]


def drop_refresh_table(op: object) -> None:
    op.drop_table(TABLE)  # type: ignore[attr-defined]


class RefreshRefused(Exception):
    """The refresh token cannot be exchanged; the message says why (a 401)."""


@dataclass(frozen=True)
class Exchanged:
    role: Role
    subject: str
    refresh_token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RefreshTokens:
    def __init__(self, engine: Engine, ttl_s: float = DEFAULT_TTL_S) -> None:
        self.engine = engine
        self.ttl_s = ttl_s

    def issue(self, role: Role, subject: str, *, family: str | None = None) -> str:
        """A new refresh token for `subject` (a new family unless one is given)."""
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(
                refresh_tokens.insert().values(
                    token_hash=_hash(token),
                    family=family or secrets.token_hex(16),
                    role=Role(role).value,
                    subject=subject,
                    issued_at=now,
                    expires_at=now + self.ttl_s,
                )
            )
        return token

    def exchange(self, token: str, not_before: float | None = None) -> Exchanged:
        """Use up `token` and return a new one of its family, or RefreshRefused.

        `not_before` (the person's revocation, if any, looked up by the caller through
        `owner`) refuses a token issued at or before it.
        """
        now = time.time()
        digest = _hash(token)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(refresh_tokens).where(refresh_tokens.c.token_hash == digest)
            ).one_or_none()
            if row is None:
                raise RefreshRefused("refresh_token: unknown (never issued here, or mistyped)")
            if row.revoked_at is not None:
                raise RefreshRefused("refresh_token: revoked")
            if now >= row.expires_at:
                raise RefreshRefused("refresh_token: expired")
            refusal = None
            if not_before is not None and row.issued_at <= not_before:
                refusal = "refresh_token: revoked (the person's tokens were revoked)"
            else:
                used = conn.execute(
                    refresh_tokens.update()
                    .where(
                        refresh_tokens.c.token_hash == digest, refresh_tokens.c.used_at.is_(None)
                    )
                    .values(used_at=now)
                )
                if used.rowcount != 1:
                    refusal = (
                        "refresh_token: already used; every token of its family is revoked "
                        "(ask an operator for new ones)"
                    )
            if refusal is not None:
                self._revoke_family(conn, row.family, now)
        if refusal is not None:  # after the commit: the family's revocation stays
            raise RefreshRefused(refusal)
        role = Role(row.role)
        return Exchanged(role, row.subject, self.issue(role, row.subject, family=row.family))

    def owner(self, token: str) -> tuple[Role, str] | None:
        """Whose refresh token this is (to look up a revocation), or None if unknown."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(refresh_tokens.c.role, refresh_tokens.c.subject).where(
                    refresh_tokens.c.token_hash == _hash(token)
                )
            ).one_or_none()
        return None if row is None else (Role(row.role), row.subject)

    @staticmethod
    def _revoke_family(conn: sa.Connection, family: str, now: float) -> None:
        conn.execute(
            refresh_tokens.update()
            .where(refresh_tokens.c.family == family, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
