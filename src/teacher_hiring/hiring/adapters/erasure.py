"""The SQL of personal data: each candidate's sealing key, and erasing a candidate.

Mixed into HiringRepository, on the unit of work's connection.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection

from teacher_hiring.foundation.sealing import is_sealed, new_key
from teacher_hiring.foundation.sql import dialect_insert
from teacher_hiring.hiring.adapters.tables import (
    candidates,
    person_keys,
    registration_keys,
    submissions,
)
from teacher_hiring.hiring.domain.commands import email_key
from teacher_hiring.hiring.domain.model import ERASED_ANSWER, ERASED_NAME, erased_email
from teacher_hiring.messaging.tables import outbox

CANDIDATE_EVENTS = ("CandidateCreated", "CandidateUpdated")
"""The events whose payload holds a candidate's name (`candidate_name`)."""


class PersonalData:
    conn: Connection

    def person_key(self, candidate_id: str, at: float) -> bytes:
        """The candidate's sealing key, made on first use (candidates from before sealing)."""
        query = sa.select(person_keys.c.key).where(person_keys.c.candidate_id == candidate_id)
        found = self.conn.execute(query).scalar_one_or_none()
        if found is not None:
            return bytes(found)
        insert = dialect_insert(self.conn.dialect.name, person_keys).values(
            candidate_id=candidate_id, key=new_key(), created_at=at
        )
        self.conn.execute(insert.on_conflict_do_nothing())
        return bytes(self.conn.execute(query).scalar_one())

    def candidate_erased_at(self, candidate_id: str) -> tuple[bool, float | None]:
        """(whether the candidate exists, when they were erased or None); locks their row."""
        query = sa.select(candidates.c.erased_at).where(candidates.c.id == candidate_id)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return (False, None) if row is None else (True, row.erased_at)

    def erase_candidate(self, candidate_id: str, at: float) -> int:
        """Name, email, origin and answers gone, the key deleted, clear names in the outbox
        replaced, the registration's idempotency keys (hashes of name and email) forgotten; how many
        answers were erased. The candidate's row first: a submission of theirs in flight holds
        it, and this waits for it, then erases its answer too. The email's key goes with the
        email, so the person may register again."""
        email = erased_email(candidate_id)
        self.conn.execute(
            candidates.update()
            .where(candidates.c.id == candidate_id)
            .values(
                name=ERASED_NAME,
                email=email,
                email_key=email_key(email),
                origin=None,
                erased_at=at,
                updated_at=at,
            )
        )
        self.conn.execute(
            registration_keys.delete().where(registration_keys.c.candidate_id == candidate_id)
        )
        answers = self.conn.execute(
            submissions.update()
            .where(submissions.c.candidate_id == candidate_id)
            .values(answer=ERASED_ANSWER)
        ).rowcount
        self.conn.execute(person_keys.delete().where(person_keys.c.candidate_id == candidate_id))
        self._scrub_outbox(candidate_id)
        return int(answers)

    def _scrub_outbox(self, candidate_id: str) -> None:
        """Events staged before names were sealed hold them in clear: replace the name."""
        rows = self.conn.execute(
            sa.select(outbox.c.id, outbox.c.body).where(
                outbox.c.partition_key == candidate_id,
                outbox.c.event_name.in_(CANDIDATE_EVENTS),
            )
        ).all()
        for row in rows:
            body: dict[str, Any] = orjson.loads(row.body)
            name = body["payload"].get("candidate_name")
            if isinstance(name, str) and not is_sealed(name):
                body["payload"]["candidate_name"] = ERASED_NAME
                self.conn.execute(
                    outbox.update().where(outbox.c.id == row.id).values(body=orjson.dumps(body))
                )
