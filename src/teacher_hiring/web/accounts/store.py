"""Accounts, sessions and failed sign-ins: every query of the accounts database, in one place.

A session's cookie value is never stored: only its SHA-256, so a copy of the database opens
no session. The same holds for a manager's first-visit link.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from teacher_hiring.foundation.sql import DriverStatement, read_only
from teacher_hiring.foundation.time import Clock, system_clock
from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web.accounts import passwords
from teacher_hiring.web.accounts.tables import (
    accounts,
    email_confirmations,
    metadata,
    sessions,
    sign_in_failures,
)

FORGET_AFTER_S = 24 * 3600
"""How long an ended session, or the last of a run of failed sign-ins, is kept."""


class EmailTaken(Exception):
    """One email, one account."""


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    role: Role
    subject_id: str
    name: str
    has_password: bool


@dataclass(frozen=True)
class SignUp:
    """A candidate's sign-up waiting for its email's confirmation."""

    account: Account
    teaches: str | None


@dataclass(frozen=True)
class Session:
    """A signed-in person's session, as the cookie found it."""

    id_hash: str
    account: Account
    csrf_secret: str
    expires_at: float


def normalized_email(email: str) -> str:
    return email.strip().lower()


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


_LIVE_SESSION = DriverStatement(
    sa.select(
        sessions.c.id_hash,
        sessions.c.csrf_secret,
        sessions.c.expires_at,
        accounts.c.id,
        accounts.c.email,
        accounts.c.role,
        accounts.c.subject_id,
        accounts.c.name,
        accounts.c.password_hash.is_not(None),
    )
    .select_from(sessions.join(accounts, accounts.c.id == sessions.c.account_id))
    .where(
        sessions.c.id_hash == sa.bindparam("id_hash"),
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > sa.bindparam("now"),
    )
)
"""The session of a cookie's hash, with its account, if live at `now`."""


def _account(row: sa.Row[object]) -> Account:
    m = row._mapping
    return Account(
        id=m["id"],
        email=m["email"],
        role=Role(m["role"]),
        subject_id=m["subject_id"],
        name=m["name"],
        has_password=m["password_hash"] is not None,
    )


class Accounts:
    """The accounts database of the web process (shared by its instances)."""

    def __init__(self, engine: Engine, clock: Clock = system_clock) -> None:
        self.engine = engine
        self.clock = clock

    def create_tables(self) -> None:
        metadata.create_all(self.engine)

    # -- accounts ---------------------------------------------------------------------------

    def create(
        self,
        *,
        email: str,
        role: Role,
        subject_id: str,
        name: str,
        password: str | None = None,
    ) -> Account:
        """A new account; EmailTaken when the email has one."""
        account = Account(
            id=str(uuid.uuid4()),
            email=normalized_email(email),
            role=Role(role),
            subject_id=subject_id,
            name=name,
            has_password=password is not None,
        )
        values = {
            "id": account.id,
            "email": account.email,
            "role": account.role.value,
            "subject_id": subject_id,
            "name": name,
            "password_hash": None if password is None else passwords.hash_password(password),
            "created_at": self.clock(),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(accounts.insert().values(values))
        except IntegrityError as exc:
            raise EmailTaken(f"email: {account.email} already has an account") from exc
        return account

    def by_email(self, email: str) -> Account | None:
        with read_only(self.engine) as conn:
            row = conn.execute(
                sa.select(accounts).where(accounts.c.email == normalized_email(email))
            ).first()
        return None if row is None else _account(row)

    def by_subject(self, role: Role, subject_id: str) -> Account | None:
        with read_only(self.engine) as conn:
            row = conn.execute(
                sa.select(accounts).where(
                    accounts.c.role == Role(role).value, accounts.c.subject_id == subject_id
                )
            ).first()
        return None if row is None else _account(row)

    def erase(self, role: Role, subject_id: str) -> bool:
        """Delete the person's account, its sessions and the failed sign-ins of its email
        (docs/security.md, erasure); False if they had no account."""
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(accounts.c.id, accounts.c.email).where(
                    accounts.c.role == Role(role).value, accounts.c.subject_id == subject_id
                )
            ).first()
            if row is None:
                return False
            conn.execute(sessions.delete().where(sessions.c.account_id == row.id))
            conn.execute(
                sign_in_failures.delete().where(sign_in_failures.c.key == f"email:{row.email}")
            )
            conn.execute(accounts.delete().where(accounts.c.id == row.id))
        return True

    def email_taken(self, email: str) -> bool:
        return self.by_email(email) is not None

    def check_password(self, email: str, password: str) -> Account | None:
        """The account if the password is its own; None otherwise (unknown email included,
        which takes as long)."""
        with read_only(self.engine) as conn:
            row = conn.execute(
                sa.select(accounts).where(accounts.c.email == normalized_email(email))
            ).first()
        stored = None if row is None else row._mapping["password_hash"]
        if not passwords.verify(stored, password) or row is None:
            return None
        return _account(row)

    def set_password(self, account_id: str, password: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                accounts.update()
                .where(accounts.c.id == account_id)
                .values(password_hash=passwords.hash_password(password))
            )

    # -- a candidate's sign-up, confirmed by a link sent to the email ---------------------------

    def sign_up(
        self, *, email: str, name: str, teaches: str | None, password: str, ttl_s: float
    ) -> str:
        """A candidate's account, unusable until the returned token's link is followed (only
        its SHA-256 is kept). An unconfirmed sign-up of the same email is replaced (name,
        password, a new link; the old one stops working): whoever does not hold the mailbox
        cannot keep its owner out. EmailTaken when a confirmed account holds the email."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        email = normalized_email(email)
        hashed = passwords.hash_password(password)
        confirmation = {
            "token_hash": digest(token),
            "teaches": teaches,
            "expires_at": now + ttl_s,
            "created_at": now,
        }
        try:
            with self.engine.begin() as conn:
                self._forget_unconfirmed(conn, now)
                row = conn.execute(
                    sa.select(accounts.c.id, email_confirmations.c.account_id.label("pending"))
                    .select_from(accounts.outerjoin(email_confirmations))
                    .where(accounts.c.email == email)
                ).first()
                if row is not None and row.pending is None:
                    raise EmailTaken(f"email: {email} already has an account")
                if row is None:
                    account_id = str(uuid.uuid4())
                    conn.execute(
                        accounts.insert().values(
                            id=account_id,
                            email=email,
                            role=Role.candidate.value,
                            subject_id="",
                            name=name,
                            password_hash=hashed,
                            created_at=now,
                        )
                    )
                else:
                    account_id = row.id
                    conn.execute(
                        accounts.update()
                        .where(accounts.c.id == account_id)
                        .values(name=name, password_hash=hashed)
                    )
                    conn.execute(
                        email_confirmations.delete().where(
                            email_confirmations.c.account_id == account_id
                        )
                    )
                conn.execute(
                    email_confirmations.insert().values(account_id=account_id, **confirmation)
                )
        except IntegrityError as exc:  # another sign-up of this email at the same moment
            raise EmailTaken(f"email: {email} already has an account") from exc
        return token

    @staticmethod
    def _forget_unconfirmed(conn: sa.Connection, now: float) -> None:
        """Sign-ups whose link expired more than a day ago: their email, name and password
        hash go (they never had a session)."""
        stale = list(
            conn.execute(
                sa.select(email_confirmations.c.account_id).where(
                    email_confirmations.c.expires_at < now - FORGET_AFTER_S
                )
            ).scalars()
        )
        if stale:
            conn.execute(
                email_confirmations.delete().where(email_confirmations.c.account_id.in_(stale))
            )
            conn.execute(accounts.delete().where(accounts.c.id.in_(stale)))

    def by_confirmation(self, token: str) -> SignUp | None:
        """The sign-up a confirmation link is for, while the link is valid."""
        with read_only(self.engine) as conn:
            row = conn.execute(
                sa.select(accounts, email_confirmations.c.teaches)
                .join(email_confirmations)
                .where(
                    email_confirmations.c.token_hash == digest(token),
                    email_confirmations.c.expires_at > self.clock(),
                )
            ).first()
        return None if row is None else SignUp(_account(row), row.teaches)

    def is_pending(self, account_id: str) -> bool:
        """Whether the account waits for its email's confirmation."""
        with read_only(self.engine) as conn:
            row = conn.execute(
                sa.select(email_confirmations.c.account_id).where(
                    email_confirmations.c.account_id == account_id
                )
            ).first()
        return row is not None

    def renew_confirmation(self, account_id: str, ttl_s: float) -> str:
        """A new link for a sign-up waiting for confirmation (the previous one stops working)."""
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                email_confirmations.update()
                .where(email_confirmations.c.account_id == account_id)
                .values(token_hash=digest(token), expires_at=self.clock() + ttl_s)
            )
        return token

    def confirm(self, token: str, candidate_id: str) -> Account | None:
        """The email is confirmed: the account becomes the candidate's and usable, the link is
        spent. None when the link is not valid (spent, replaced or expired)."""
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(email_confirmations.c.account_id)
                .where(
                    email_confirmations.c.token_hash == digest(token),
                    email_confirmations.c.expires_at > self.clock(),
                )
                .with_for_update()
            ).first()
            if row is None:
                return None
            conn.execute(
                email_confirmations.delete().where(
                    email_confirmations.c.account_id == row.account_id
                )
            )
            done = conn.execute(
                accounts.update()
                .where(accounts.c.id == row.account_id)
                .values(subject_id=candidate_id)
                .returning(accounts)
            ).first()
        return None if done is None else _account(done)

    # -- first-visit links ------------------------------------------------------------------

    def invite(
        self, *, email: str, role: Role, subject_id: str, name: str, ttl_s: float
    ) -> tuple[Account, str]:
        """An account without a password, and the one-time token of its first-visit link
        (shown once: only its SHA-256 is kept). EmailTaken when the email has an account."""
        account = self.create(email=email, role=role, subject_id=subject_id, name=name)
        return account, self.renew_invitation(account.id, ttl_s)

    def renew_invitation(self, account_id: str, ttl_s: float) -> str:
        """A new first-visit token for the account (the previous one stops working)."""
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                accounts.update()
                .where(accounts.c.id == account_id)
                .values(invitation_hash=digest(token), invitation_expires_at=self.clock() + ttl_s)
            )
        return token

    def by_invitation(self, token: str) -> Account | None:
        """The account a first-visit token opens, while it is valid."""
        with read_only(self.engine) as conn:
            row = conn.execute(
                sa.select(accounts).where(
                    accounts.c.invitation_hash == digest(token),
                    accounts.c.invitation_expires_at > self.clock(),
                )
            ).first()
        return None if row is None else _account(row)

    def accept_invitation(self, token: str, password: str) -> Account | None:
        """Sets the password and spends the token; None when the token is not valid."""
        with self.engine.begin() as conn:
            done = conn.execute(
                accounts.update()
                .where(
                    accounts.c.invitation_hash == digest(token),
                    accounts.c.invitation_expires_at > self.clock(),
                )
                .values(
                    password_hash=passwords.hash_password(password),
                    invitation_hash=None,
                    invitation_expires_at=None,
                )
                .returning(accounts)
            ).first()
        return None if done is None else _account(done)

    # -- sessions ---------------------------------------------------------------------------

    def open_session(self, account_id: str, ttl_s: float) -> str:
        """A new session; returns the cookie's value (only its SHA-256 is stored). Sessions
        that ended (expired or revoked) more than a day ago are forgotten on the way."""
        value = secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                sessions.delete().where(
                    sa.or_(
                        sessions.c.expires_at < now - FORGET_AFTER_S,
                        sessions.c.revoked_at < now - FORGET_AFTER_S,
                    )
                )
            )
            conn.execute(
                sessions.insert().values(
                    id_hash=digest(value),
                    account_id=account_id,
                    csrf_secret=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + ttl_s,
                    revoked_at=None,
                )
            )
        return value

    def session(self, cookie_value: str) -> Session | None:
        """The live session of the cookie: not revoked, not expired. One read, compiled once
        (every page asks it: the person and the CSRF secret come from the same row)."""
        params = {"id_hash": digest(cookie_value), "now": self.clock()}
        with read_only(self.engine) as conn:
            row = _LIVE_SESSION(conn, params).first()
        if row is None:
            return None
        id_hash, csrf_secret, expires_at, *person, has_password = tuple(row)
        account_id, email, role, subject_id, name = person
        account = Account(account_id, email, Role(role), subject_id, name, bool(has_password))
        return Session(id_hash, account, csrf_secret, expires_at)

    def revoke(self, cookie_value: str) -> None:
        """Sign-out: the session ends for every copy of its cookie."""
        with self.engine.begin() as conn:
            conn.execute(
                sessions.update()
                .where(sessions.c.id_hash == digest(cookie_value), sessions.c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            )

    def end_sessions(self, account_id: str) -> int:
        """Every live session of the account ends (its person's tokens were revoked)."""
        with self.engine.begin() as conn:
            ended = conn.execute(
                sessions.update()
                .where(sessions.c.account_id == account_id, sessions.c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            )
        return int(ended.rowcount)

    # -- failed sign-ins --------------------------------------------------------------------

    def wait_s(self, keys: list[str], free_failures: int, max_delay_s: float) -> float:
        """Seconds before another sign-in is tried for these keys (0: now). After
        `free_failures` failures each one doubles the wait, from 5 seconds to `max_delay_s`."""
        with read_only(self.engine) as conn:
            rows = conn.execute(
                sa.select(sign_in_failures).where(sign_in_failures.c.key.in_(keys))
            ).all()
        now = self.clock()
        wait = 0.0
        for row in rows:
            over = row.failures - free_failures
            if over < 0:
                continue
            delay = min(max_delay_s, 5.0 * 2.0 ** min(over, 30))
            wait = max(wait, row.last_failed_at + delay - now)
        return wait

    def record_failure(self, keys: list[str]) -> None:
        now = self.clock()
        with self.engine.begin() as conn:  # runs of failures that ended long ago
            conn.execute(
                sign_in_failures.delete().where(
                    sign_in_failures.c.last_failed_at < now - FORGET_AFTER_S
                )
            )
        for key in keys:
            for _ in range(2):  # an insert racing another instance's becomes an update
                try:
                    with self.engine.begin() as conn:
                        updated = conn.execute(
                            sign_in_failures.update()
                            .where(sign_in_failures.c.key == key)
                            .values(failures=sign_in_failures.c.failures + 1, last_failed_at=now)
                        ).rowcount
                        if not updated:
                            conn.execute(
                                sign_in_failures.insert().values(
                                    key=key, failures=1, last_failed_at=now
                                )
                            )
                    break
                except IntegrityError:
                    continue

    def clear_failures(self, keys: list[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(sign_in_failures.delete().where(sign_in_failures.c.key.in_(keys)))
