"""One candidate per mailbox: `email_key` also drops a `+tag` sub-address and Gmail's dots.

Keys are recomputed for every candidate, earliest registration first (by created_at, then id),
with revision 0008's rule for duplicates: the earliest of a mailbox holds the plain key; each
later one (`ivan+2@` registered after `ivan@`) keeps its account, submissions and money, with
the key `<key>#duplicate-<candidate id>`, which no email can equal. The downgrade recomputes
0008's keys (trimmed, lowercased) the same way.

The key functions are copied here, not imported: a migration must do tomorrow what it does
today, whatever `domain.commands.email_key` becomes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

DUPLICATE = "#duplicate-"
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def mailbox_key(email: str) -> str:
    address = email.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return address
    local = local.split("+", 1)[0] or local
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", "") or local, "gmail.com"
    return f"{local}@{domain}"


def address_key(email: str) -> str:
    return email.strip().lower()


def upgrade() -> None:
    _recompute(mailbox_key)


def downgrade() -> None:
    _recompute(address_key)


def _recompute(key_of: Callable[[str], str]) -> None:
    candidates = sa.table(
        "candidates",
        sa.column("id", sa.String),
        sa.column("email", sa.String),
        sa.column("email_key", sa.String),
        sa.column("created_at", sa.Float),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(candidates.c.id, candidates.c.email).order_by(
            candidates.c.created_at, candidates.c.id
        )
    ).all()
    wanted: dict[str, str] = {}
    taken: set[str] = set()
    for candidate_id, email in rows:
        key = key_of(email)
        if key in taken:
            key = f"{key}{DUPLICATE}{candidate_id}"
        taken.add(key)
        wanted[candidate_id] = key
    # Two passes: a key handed to one row may still be held by another until that one moves.
    for candidate_id in wanted:
        conn.execute(
            candidates.update()
            .where(candidates.c.id == candidate_id)
            .values(email_key=f"{DUPLICATE}moving-{candidate_id}")
        )
    for candidate_id, key in wanted.items():
        conn.execute(
            candidates.update().where(candidates.c.id == candidate_id).values(email_key=key)
        )
