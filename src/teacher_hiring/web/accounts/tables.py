"""The tables of the accounts database, created with `metadata.create_all` at start-up."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column(
        "subject_id",
        sa.String(200),
        nullable=False,
        doc="The candidate's or manager's id in its service; an operator's email",
    ),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=True, doc="argon2id; NULL: not yet set"),
    sa.Column("invitation_hash", sa.String(64), nullable=True, doc="SHA-256 of the one-time link"),
    sa.Column("invitation_expires_at", sa.Float, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True, doc="SHA-256 of the cookie's value"),
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("csrf_secret", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Index("ix_sessions_account", "account_id"),
)

# A candidate's sign-up whose email is not confirmed yet: the account has a row here until its
# link is followed (and no candidate in hiring: subject_id is empty). A table of its own, so a
# database made before it gains it at start-up and its accounts stay confirmed.
email_confirmations = sa.Table(
    "email_confirmations",
    metadata,
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True, doc="SHA-256 of the link"),
    sa.Column("teaches", sa.String(50), nullable=True, doc="The subject asked for, for hiring"),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

sign_in_failures = sa.Table(
    "sign_in_failures",
    metadata,
    sa.Column("key", sa.String(400), primary_key=True, doc="email:<email> or address:<ip>"),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failed_at", sa.Float, nullable=False),
)
