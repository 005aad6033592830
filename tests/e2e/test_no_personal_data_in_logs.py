"""After a run with failures, no log file and no dead letter holds a personal field or a token.

The platform runs as processes; then things go wrong, each with personal data at hand:
bonus's replica of managers and exercises' replica of candidates refuse inserts (a manager's
and a candidate's names and e-mail addresses are the statement's parameters: each event is
retried, then dead-lettered), hiring's submissions refuse inserts (a candidate's answer is a
parameter: the request fails with 500 and uvicorn logs the exception), poison records quote
names, an address and an accepted answer in their schema errors, and calls come with forged
tokens and cookies. Then every log file and every dead letter's headers (its error text and
the rest) are searched for each personal value and each token the run used: none is there.

A dead letter's value is the event's own bytes, a copy of what its topic holds (and replays
need it): that copy is checked to be unchanged, and its erasure is the event log's, not the
logs'. docs/security.md, "Logs and dead letters".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from e2e.platform_api import Api, eventually
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.transport import OutgoingMessage, Record, dlq_topic
from teacher_hiring.runtime.processes import Platform
from teacher_hiring.runtime.transports import make_transport

pytestmark = pytest.mark.e2e

MANAGER = ("Zinaida", "Personova", "zinaida.personova@school.example")
CANDIDATE = ("Zakhar Secretov", "zakhar.secretov@mail.example")
ACCEPTED = "accepted answer 4471"
ANSWER = "my private answer 8812"
POISON_NAME, POISON_EMAIL, POISON_ACCEPTED = (
    "Polina Poisonova",
    "polina.poisonova@mail.example",
    "poisoned accepted answer 5530",
)
FORGED = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.Zm9yZ2VkLXNpZ25hdHVyZS0xMjM0NTY3OA"
COOKIE = "th_session=cookie-value-6623b1"

PERSONAL = [*MANAGER, *CANDIDATE, "Zakhar", "Secretov", ACCEPTED, ANSWER]
PERSONAL += [POISON_NAME, POISON_EMAIL, POISON_ACCEPTED, FORGED, COOKIE.split("=")[1]]


def refuse_inserts(table: str, dialect: str) -> list[str]:
    """Statements after which `table` refuses every insert with an error that is not a
    constraint's (a missing table on SQLite, a raised exception on PostgreSQL)."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_refused BEFORE INSERT ON {table} "
            f"BEGIN SELECT refused FROM {table}_under_maintenance; END"
        ]
    return [
        f"CREATE FUNCTION {table}_refused() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{table} is under maintenance'; END $$",
        f"CREATE TRIGGER {table}_refused BEFORE INSERT ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_refused()",
    ]


@contextmanager
def refused(platform: Platform, service: str, table: str) -> Iterator[None]:
    engine = sa.create_engine(platform.deployment.database_url(service), poolclass=sa.NullPool)
    try:
        with engine.begin() as conn:
            for statement in refuse_inserts(table, engine.dialect.name):
                conn.exec_driver_sql(statement)
        yield
    finally:
        engine.dispose()


def envelope_bytes(name: str, version: int, payload: dict[str, Any], **wrong: Any) -> bytes:
    """An event as a broken producer would write it: valid, then with `wrong` fields."""
    envelope = Envelope.new(name, version, payload, producer="broken-producer")
    return Envelope.from_dict({**envelope.as_dict(), "payload": {**payload, **wrong}}).to_json()


def send_poison(platform: Platform) -> None:
    now = datetime.now(UTC).isoformat()
    candidate = {
        "candidate_id": str(uuid.uuid4()),
        "candidate_name": "x",
        "created_at": now,
        "status": "candidate",
    }
    exercise = {
        "exercise_id": str(uuid.uuid4()),
        "title": "Sum",
        "statement": "Add",
        "accepted_answers": ["1"],
        "check_mode": "exact",
        "subject": "general",
        "difficulty": 3,
        "author_id": str(uuid.uuid4()),
        "version": 1,
        "status": "active",
        "updated_at": now,
    }
    records = [
        OutgoingMessage(
            "candidates",
            "poison-1",
            envelope_bytes(
                "CandidateCreated", 0, candidate, candidate_name=[POISON_NAME], status=POISON_EMAIL
            ),
        ),
        OutgoingMessage(
            "exercises",
            "poison-2",
            envelope_bytes("ExerciseCreated", 1, exercise, accepted_answers=POISON_ACCEPTED),
        ),
    ]
    transport = transport_of(platform)
    try:
        transport.producer().send(records)
    finally:
        transport.close()


def transport_of(platform: Platform) -> Any:
    deployment = platform.deployment
    return make_transport(
        deployment.event_log_url(),
        partitions=deployment.partitions,
        topic_prefix=deployment.topic_prefix,
    )


def every_dead_letter(platform: Platform) -> list[Record]:
    transport = transport_of(platform)
    try:
        letters = []
        for topic in ("candidates", "managers", "exercises"):
            for partition, end in transport.end_offsets(dlq_topic(topic)).items():
                letters += transport.read(dlq_topic(topic), partition, 0, end + 1)
        return letters
    finally:
        transport.close()


def dead_letters_listed(api: Api, service: str) -> list[dict[str, Any]]:
    return list(api.ok("GET", service, "/operator/dead-letters")["items"])


def test_a_run_with_failures_leaves_no_personal_field_or_token_in_logs_or_dead_letters(
    api: Api, platform: Platform
) -> None:
    first, last, email = MANAGER
    with refused(platform, "bonus", "managers"), refused(platform, "exercises", "candidates"):
        author = api.ok(
            "POST",
            "exercises",
            "/managers",
            json={"first_name": first, "last_name": last, "team": None, "email": email},
        )
        exercise_id = api.exercise(author["id"], ACCEPTED)
        api.hiring_knows([exercise_id])  # assigned to the candidate registered next
        name, candidate_email = CANDIDATE
        candidate = api.ok(
            "POST", "hiring", "/candidates", json={"name": name, "email": candidate_email}
        )
        send_poison(platform)
        with refused(platform, "hiring", "submissions"):
            failed = api.submit(candidate["id"], exercise_id, 1, ANSWER)
            assert failed.status_code == 500, failed.text
        # Its own client: the server closed the connection of the 500.
        with httpx.Client(headers={"Authorization": f"Bearer {FORGED}", "Cookie": COOKIE}) as c:
            for path in ("/candidates", "/operator/dead-letters", f"/candidates/{candidate['id']}"):
                assert c.get(api.url("hiring", path)).status_code == 401
        eventually(
            lambda: (
                len(dead_letters_listed(api, "exercises")) == 2
                and len(dead_letters_listed(api, "bonus")) >= 1
                and len(dead_letters_listed(api, "hiring")) >= 1
            ),
            what="the refused replicas' and the poison's dead letters",
            timeout_s=60,
        )

    letters = every_dead_letter(platform)
    reasons = sorted(letter.headers["dlq_reason"] for letter in letters)
    assert reasons.count("failed") >= 2 and reasons.count("invalid") >= 2, reasons
    shown = [
        api.ok("GET", service, f"/operator/dead-letters/{item['topic']}/{item['id']}")
        for service in ("exercises", "hiring", "bonus")
        for item in dead_letters_listed(api, service)
    ]
    tokens = [
        author["access_token"],
        candidate["access_token"],
        api.operator["Authorization"].split()[1],
    ]
    for letter in letters:
        kept = " ".join(f"{key}={value}" for key, value in letter.headers.items())
        assert letter.headers["dlq_error"], letter.headers
        assert_absent(kept, f"the headers of a dead letter of {letter.topic}", tokens)
    for item in shown:  # what operators see beside the event itself
        seen = f"{item['error']} {item['parse_error']}"
        assert_absent(seen, "a dead letter's errors as operators see them", tokens)

    logs = sorted((platform.deployment.data_dir / "logs").glob("*.log"))
    assert logs
    text = "\n".join(path.read_text(errors="replace") for path in logs)
    assert "consumer.dead_lettered" in text and "Exception in ASGI application" in text
    assert "IntegrityError" in text or "Error" in text
    assert_absent(text, "the logs", tokens)


def assert_absent(text: str, where: str, tokens: list[str]) -> None:
    found = [value for value in [*PERSONAL, *tokens] if value in text]
    assert not found, f"{found} in {where}"
