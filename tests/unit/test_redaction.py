"""Logs and dead letters hold no personal field and no credential (docs/security.md)."""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
import structlog
import uvicorn.config

from teacher_hiring.foundation.redaction import (
    REDACTED,
    describe_error,
    personal_values,
    redact,
    scrub_text,
)
from teacher_hiring.runtime.db import dispose, make_engine
from teacher_hiring.runtime.logging import ScrubbingFormatter, configure_logging, format_exception

NAME = "Zinaida Personova"
EMAIL = "zinaida.personova@mail.example"
ANSWER = "forty-two and a secret trick"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ6aW5haWRhIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"

people = sa.MetaData()
candidates = sa.Table(
    "candidates",
    people,
    sa.Column("name", sa.String, nullable=False),
    sa.Column("email", sa.String, nullable=False),
    sa.Column("answer", sa.String, nullable=False),
    sa.Column("attempts", sa.Integer, sa.CheckConstraint("attempts > 0"), nullable=False),
)


def refused_insert() -> sa.exc.DBAPIError:
    """The error of an INSERT of a person's row that the database refuses."""
    engine = sa.create_engine("sqlite://")  # parameters shown, as SQLAlchemy's default
    try:
        people.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                candidates.insert().values(name=NAME, email=EMAIL, answer=ANSWER, attempts=0)
            )
    except sa.exc.DBAPIError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("the insert was accepted")


def assert_clean(text: str) -> None:
    for value in (NAME, EMAIL, ANSWER, TOKEN):
        assert value not in text, f"{value!r} in {text!r}"


def test_a_refused_statement_is_described_by_its_class_and_first_line_without_parameters() -> None:
    exc = refused_insert()
    assert NAME in str(exc)  # what used to reach logs and dead letters
    described = describe_error(exc)
    assert described.startswith("sqlalchemy.exc.IntegrityError: (sqlite3.IntegrityError)")
    assert "CHECK constraint failed" in described
    assert_clean(described)


def test_the_detail_lines_of_a_driver_message_which_quote_the_row_are_left_out() -> None:
    class UniqueViolation(Exception):
        pass

    orig = UniqueViolation(
        'duplicate key value violates unique constraint "candidates_email"\n'
        f"DETAIL:  Key (email)=({EMAIL}) already exists.\n"
        f"Failing row contains ({NAME}, {ANSWER})."
    )
    exc = sa.exc.IntegrityError("INSERT INTO candidates ...", {"name": NAME}, orig)
    described = describe_error(exc)
    assert 'violates unique constraint "candidates_email"' in described
    assert_clean(described)


def test_the_engines_of_the_services_never_put_parameters_in_an_error(tmp_path: object) -> None:
    engine = make_engine("sqlite://")
    try:
        people.create_all(engine)
        with pytest.raises(sa.exc.IntegrityError) as raised, engine.begin() as conn:
            conn.execute(
                candidates.insert().values(name=NAME, email=EMAIL, answer=ANSWER, attempts=0)
            )
    finally:
        dispose(engine)
    assert_clean(str(raised.value))


def test_known_personal_values_tokens_cookies_passwords_and_addresses_are_cut_from_text() -> None:
    text = (
        f"handler failed for {NAME}: answer {ANSWER!r} from {EMAIL}\n"
        f"Authorization: Bearer {TOKEN}\n"
        "Cookie: th_session=abcdef123456\n"
        f"GET /confirm?token={TOKEN}x&password=hunter2hunter2"
    )
    scrubbed = scrub_text(text, [NAME, ANSWER])
    assert_clean(scrubbed)
    assert "abcdef123456" not in scrubbed and "hunter2hunter2" not in scrubbed
    assert scrubbed.startswith(f"handler failed for {REDACTED}: answer")


def test_personal_values_are_found_at_any_depth_under_personal_keys() -> None:
    payload = {
        "candidate_id": "c-1",
        "candidate_name": NAME,
        "title": "Sum",
        "statement": "Add two numbers",
        "accepted_answers": [ANSWER],
        "nested": [{"email": EMAIL, "exercise_id": "e-1"}],
    }
    assert sorted(personal_values(payload)) == sorted([NAME, ANSWER, EMAIL])


def test_redact_replaces_sensitive_keys_and_scrubs_every_other_string() -> None:
    event = {
        "headers": {"Authorization": f"Bearer {TOKEN}", "Cookie": "s=1", "Accept": "text/html"},
        "first_name": "Zinaida",
        "last_name": "Personova",
        "email": EMAIL,
        "password": "hunter2hunter2",
        "error": f"could not mail {EMAIL}",
        "event_id": "e-1",
    }
    redacted = redact(event)
    assert redacted["headers"] == {
        "Authorization": REDACTED,
        "Cookie": REDACTED,
        "Accept": "text/html",
    }
    assert {redacted[k] for k in ("first_name", "last_name", "email", "password")} == {REDACTED}
    assert redacted["error"] == f"could not mail {REDACTED}"
    assert redacted["event_id"] == "e-1"


def test_a_traceback_keeps_its_frames_and_scrubs_the_message_of_each_exception() -> None:
    try:
        try:
            raise refused_insert()
        except sa.exc.DBAPIError as exc:
            raise RuntimeError(f"could not register {EMAIL}") from exc
    except RuntimeError as exc:
        rendered = format_exception((type(exc), exc, exc.__traceback__))
    assert rendered.count("Traceback (most recent call last):") == 3  # with the driver's
    assert "direct cause" in rendered and "refused_insert" in rendered
    assert rendered.rstrip().endswith(f"RuntimeError: could not register {REDACTED}")
    assert_clean(rendered)


@contextmanager
def service_logging() -> Iterator[None]:
    """The logging of a service, writing to the stderr of the moment; undone afterwards."""
    configure_logging("hiring")
    try:
        yield
    finally:
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
        logging.basicConfig(force=True, handlers=[logging.StreamHandler()])


def test_configured_logs_hold_no_personal_field_token_or_parameter(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with service_logging():
        write_logs_about_a_person()
    output = capsys.readouterr().err
    assert_clean(output)
    ours = ("candidate.registered", "request", "consumer.loop_failed")
    # only this test's lines: a thread left by an earlier test in this process may log too
    lines = [
        line
        for line in (json.loads(text) for text in output.splitlines() if text.startswith("{"))
        if line.get("event") in ours
    ]
    assert [line["event"] for line in lines] == list(ours)
    assert lines[0]["name"] == REDACTED and lines[0]["email"] == REDACTED
    assert "CHECK constraint failed" in lines[2]["exception"]
    assert f"Exception in ASGI app for {REDACTED}" in output
    assert "IntegrityError" in output.split("Exception in ASGI app")[1]


def write_logs_about_a_person() -> None:
    log = structlog.get_logger("test")
    log.warning("candidate.registered", name=NAME, email=EMAIL, authorization=f"Bearer {TOKEN}")
    log.info("request", headers={"cookie": "s=1", "authorization": TOKEN}, path="/x")
    try:
        raise refused_insert()
    except sa.exc.DBAPIError:
        log.exception("consumer.loop_failed")
        logging.getLogger("uvicorn.error").exception(f"Exception in ASGI app for {EMAIL}")


def test_the_standard_library_formatter_scrubs_message_arguments() -> None:
    record = logging.LogRecord(
        "sqlalchemy", logging.WARNING, __file__, 1, "row %s for %s", (NAME, EMAIL), None
    )
    formatted = ScrubbingFormatter("%(message)s").format(record)
    assert EMAIL not in formatted and "row" in formatted


def test_uvicorns_own_logging_set_up_does_not_bypass_the_scrubbing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A uvicorn started in the same process with its default logging (as tests do) leaves its
    loggers writing past the root handler; configure_logging takes them back."""
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
    with service_logging():
        logging.getLogger("uvicorn.error").error(f"Exception in ASGI app for {EMAIL}")
    output = capsys.readouterr().err
    assert f"Exception in ASGI app for {REDACTED}" in output
    assert_clean(output)
