"""A submission done raw: the baseline hiring's submission route is measured against.

A bare ASGI application, run by the server the services run on (uvicorn with httptools and
uvloop, the same options and garbage-collector tuning as `teacher-hiring serve`), answering
`POST /candidates/{candidate_id}/submissions` with no framework around it. Per request it does
what a submission cannot do without:

- parses the same JSON body (orjson) and checks its three fields' types;
- verifies the same bearer token: HS256 under the platform's secret, with the services' own
  `Tokens` (PyJWT, its cache of verified tokens included), the candidate naming themself;
- in ONE transaction on a connection set up exactly as the services' (runtime.db's
  `configure_sqlite` and `BEGIN_WRITE`: WAL, synchronous=NORMAL, BEGIN IMMEDIATE), on a copy
  of hiring's own database: one SELECT of the assignment, the exercise's current version with
  its stats and the attempt counter; then the submission row, the attempt counter, the
  version's stats, the rating event on a first attempt, and on a right answer the assignment
  marked solved, the money event (a bonus up to the 10th completion, a fine after) in the
  outbox and its row in the record of issued money; COMMIT;
- answers the verdict as JSON (encoded once, stored in the submission row and sent).

It validates no event against its schema and has no idempotency keys, no replays of solved
exercises, no promotion to teacher: the work left is the floor a submission stands on.

    python -m bench.raw_submission --database PATH --port PORT [--secret SECRET]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

import orjson

from teacher_hiring.hiring.domain.model import normalize_answer, rating_of
from teacher_hiring.runtime.db import BEGIN_WRITE, configure_sqlite
from teacher_hiring.runtime.tokens import InvalidToken, Role, Tokens

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

MAX_ATTEMPTS = 3
COMPLETIONS_BEFORE_COMPLICATION = 10
BONUS_BASE_CENTS = 1000
FINE_CENTS = 500
PREFIX = "/candidates/"
SUFFIX = "/submissions"

_CONTEXT = (
    "SELECT e.author_id, e.version, e.accepted_answers, e.check_mode, e.rating_version,"
    " st.completions, st.attempted_candidates, st.failed_first_attempts, st.rating,"
    " ce.solved_at, ac.attempts, ac.first_attempt_failed"
    " FROM candidate_exercises ce"
    " JOIN exercises e ON e.id = ce.exercise_id"
    " JOIN exercise_version_stats st ON st.exercise_id = e.id AND st.version = e.version"
    " LEFT JOIN attempt_counters ac ON ac.candidate_id = ce.candidate_id"
    " AND ac.exercise_id = e.id AND ac.exercise_version = e.version"
    " WHERE ce.candidate_id = ? AND ce.exercise_id = ?"
)
_INSERT_SUBMISSION = (
    "INSERT INTO submissions (id, candidate_id, exercise_id, exercise_version, answer, correct,"
    " attempt_number, idempotency_key, response, created_at, money_kind, money_cents,"
    " money_manager_id) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)"
)
_FIRST_ATTEMPT = (
    "INSERT INTO attempt_counters (candidate_id, exercise_id, exercise_version, attempts,"
    " first_attempt_failed) VALUES (?, ?, ?, 1, ?)"
)
_NEXT_ATTEMPT = (
    "UPDATE attempt_counters SET attempts = ?"
    " WHERE candidate_id = ? AND exercise_id = ? AND exercise_version = ?"
)
_STATS = (
    "UPDATE exercise_version_stats SET completions = ?, attempted_candidates = ?,"
    " failed_first_attempts = ?, rating = ?, needs_complication = ?"
    " WHERE exercise_id = ? AND version = ?"
)
_RATING_VERSION = "UPDATE exercises SET rating_version = ? WHERE id = ?"
_SOLVED = (
    "UPDATE candidate_exercises SET solved_at = ?, solved_version = ?, solved_submission_id = ?"
    " WHERE candidate_id = ? AND exercise_id = ? AND solved_at IS NULL"
)
_OUTBOX = (
    "INSERT INTO outbox (event_id, event_name, event_version, topic, partition_key, body,"
    " trace_id, created_at) VALUES (?, ?, 1, ?, ?, ?, ?, ?)"
)
_ISSUED = (
    "INSERT INTO issued_money (event_id, event_name, manager_id, amount_cents, occurred_at,"
    " body) VALUES (?, ?, ?, ?, ?, ?)"
)


class Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class RawSubmissions:
    """The ASGI application: GET /health, POST /candidates/{id}/submissions."""

    def __init__(self, database: str, secret: str) -> None:
        self.conn = sqlite3.connect(database, check_same_thread=False, timeout=30)
        configure_sqlite(self.conn)
        self.tokens = Tokens(secret)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        path: str = scope["path"]
        if scope["method"] == "GET" and path == "/health":
            await _respond(send, 200, b'{"status":"ok"}')
            return
        if scope["method"] != "POST" or not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
            await _respond(send, 404, b'{"detail":"not found"}')
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            answer = self.submit(path[len(PREFIX) : -len(SUFFIX)], scope["headers"], body)
        except Refused as refused:
            await _respond(send, refused.status, orjson.dumps({"detail": str(refused)}))
            return
        await _respond(send, 200, answer)

    def submit(self, candidate_id: str, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
        self._authorize(candidate_id, headers)
        try:
            fields = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise Refused(422, "body: not JSON") from exc
        if not isinstance(fields, dict):
            raise Refused(422, "body: not an object")
        exercise_id, version, answer = (
            fields.get("exercise_id"),
            fields.get("exercise_version"),
            fields.get("answer"),
        )
        if not isinstance(exercise_id, str):
            raise Refused(422, "exercise_id: a string")
        if not isinstance(version, int) or isinstance(version, bool):
            raise Refused(422, "exercise_version: an integer")
        if not isinstance(answer, str) or len(answer) > 10_000:
            raise Refused(422, "answer: a string of at most 10000 characters")
        conn = self.conn
        conn.execute(BEGIN_WRITE)
        try:
            verdict = self._record(conn, candidate_id, exercise_id, version, answer)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return verdict

    def _authorize(self, candidate_id: str, headers: list[tuple[bytes, bytes]]) -> None:
        for name, value in headers:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer" or not token:
                    break
                try:
                    claims = self.tokens.verify(token)
                except InvalidToken as exc:
                    raise Refused(401, str(exc)) from exc
                if claims.role is not Role.candidate or claims.subject != candidate_id:
                    raise Refused(403, "candidate_id: not this token's candidate")
                return
        raise Refused(401, "Authorization: a bearer token is required")

    def _record(
        self,
        conn: sqlite3.Connection,
        candidate_id: str,
        exercise_id: str,
        version: int,
        answer: str,
    ) -> bytes:
        row = conn.execute(_CONTEXT, (candidate_id, exercise_id)).fetchone()
        if row is None:
            raise Refused(404, "exercise_id: not assigned to this candidate")
        author, current, accepted, mode, rating_version = row[:5]
        completions, attempted, failed, rating, solved_at, attempts, first_failed = row[5:]
        if version != current:
            raise Refused(409, f"exercise_version: the current version is {current}")
        if solved_at is not None:
            raise Refused(409, "exercise_id: solved already")
        attempts = attempts or 0
        if attempts >= MAX_ATTEMPTS:
            raise Refused(429, "exercise_version: every attempt is used")
        answers = orjson.loads(accepted)
        if mode == "exact":
            correct = answer in answers
        else:
            given = normalize_answer(answer)
            correct = any(given == normalize_answer(a) for a in answers)
        now = time.time()
        at = datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z")
        submission_id = str(uuid.uuid4())
        first = attempts == 0
        rating_changed = False
        if first:
            attempted += 1
            failed += 0 if correct else 1
            new_rating = rating_of(failed, attempted)
            rating_changed = attempted == 1 or new_rating != rating
            rating = new_rating
            first_failed = not correct
        money: tuple[str, int] | None = None
        needs_complication = False
        if correct:
            completions += 1
            if completions <= COMPLETIONS_BEFORE_COMPLICATION:
                money = ("BonusAdded", BONUS_BASE_CENTS * (100 + rating) // 100)
            else:
                needs_complication = True
                money = ("FineAdded", FINE_CENTS)
        attempt = attempts + 1
        verdict = orjson.dumps(
            {
                "submission_id": submission_id,
                "exercise_id": exercise_id,
                "exercise_version": version,
                "correct": correct,
                "attempt": attempt,
                "attempts_left": MAX_ATTEMPTS - attempt,
                "solved": correct,
                "candidate_status": "candidate",
                "replayed": False,
            }
        )
        conn.execute(
            _INSERT_SUBMISSION,
            (
                submission_id,
                candidate_id,
                exercise_id,
                version,
                answer,
                correct,
                attempt,
                verdict.decode(),
                now,
                None if money is None else ("bonus" if money[0] == "BonusAdded" else "fine"),
                None if money is None else money[1],
                None if money is None else author,
            ),
        )
        if first:
            conn.execute(_FIRST_ATTEMPT, (candidate_id, exercise_id, version, first_failed))
        else:
            conn.execute(_NEXT_ATTEMPT, (attempt, candidate_id, exercise_id, version))
        if first or correct:
            conn.execute(
                _STATS,
                (completions, attempted, failed, rating, needs_complication, exercise_id, version),
            )
        if rating_changed:
            rating_version += 1
            conn.execute(_RATING_VERSION, (rating_version, exercise_id))
            payload = {
                "exercise_id": exercise_id,
                "exercise_version": version,
                "rating": rating,
                "rating_version": rating_version,
                "attempted_candidates": attempted,
                "failed_first_attempts": failed,
                "changed_at": at,
            }
            _stage(conn, "TaskRatingChanged", "task-ratings", exercise_id, payload, now)
        if money is not None:
            conn.execute(_SOLVED, (now, version, submission_id, candidate_id, exercise_id))
            name, cents = money
            payload = {
                "manager_id": author,
                "amount_cents": cents,
                "submission_id": submission_id,
                "candidate_id": candidate_id,
                "exercise_id": exercise_id,
                "exercise_version": version,
                "completion_number": completions,
                "occurred_at": at,
            }
            event_id, envelope = _stage(conn, name, "money", author, payload, now)
            conn.execute(_ISSUED, (event_id, name, author, cents, at, envelope))
        return verdict


def _stage(
    conn: sqlite3.Connection,
    name: str,
    topic: str,
    key: str,
    payload: dict[str, Any],
    now: float,
) -> tuple[str, bytes]:
    """One outbox row; its event id and envelope."""
    event_id, trace_id = str(uuid.uuid4()), uuid.uuid4().hex
    envelope = orjson.dumps(
        {
            "event_id": event_id,
            "event_name": name,
            "event_version": 1,
            "producer": "hiring",
            "trace_id": trace_id,
            "produced_at": payload.get("occurred_at") or payload.get("changed_at"),
            "payload": payload,
        }
    )
    conn.execute(_OUTBOX, (event_id, name, topic, key, envelope, trace_id, now))
    return event_id, envelope


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    from teacher_hiring.cli.serve import _tune_garbage_collector

    parser = argparse.ArgumentParser(prog="python -m bench.raw_submission", description=__doc__)
    parser.add_argument("--database", required=True, help="a copy of hiring's SQLite database")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--secret", help="the platform's signing secret (default: TEACHER_HIRING_AUTH_SECRET)"
    )
    args = parser.parse_args(argv)
    secret = args.secret or os.environ.get("TEACHER_HIRING_AUTH_SECRET")
    if not secret:
        parser.error("--secret: the platform's secret, or set TEACHER_HIRING_AUTH_SECRET")
    application = RawSubmissions(args.database, secret)
    _tune_garbage_collector()
    uvicorn.run(
        application,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
