"""What logs and dead letters may not hold: personal fields, tokens, cookies and passwords.

Scrubbing happens where the text is made, not downstream: an error is described by its class
and a message cleaned of what the caller knows to be personal (`describe_error`), log events
go through `redact` (runtime/logging.py), and the database engines hide statement parameters.
docs/security.md lists what is kept where.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"

PERSONAL_KEYS = frozenset(
    {
        "name",
        "full_name",
        "candidate_name",
        "first_name",
        "last_name",
        "email",
        "answer",
        "answers",
        "accepted_answers",
    }
)
"""Fields that hold a person's name, address or answers, wherever they appear (an event's
payload, a log event's keys). A statement or a title is not personal."""

SECRET_KEYS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "password",
        "token",
        "access_token",
        "refresh_token",
        "secret",
        "auth_secret",
        "api_key",
        "x-api-key",
    }
)
"""Fields whose value lets someone act as another: credentials of every kind."""

SENSITIVE_KEYS = PERSONAL_KEYS | SECRET_KEYS

_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_HEADER_LINE = re.compile(r"(?im)^(\s*(?:set-)?cookie|\s*authorization)\s*[:=].*$")
_ASSIGNED = re.compile(
    r"(?i)\b(password|passwd|secret|(?:access_|refresh_)?token(?=\s*=))(\s*[=:]\s*)"
    r"(\"[^\"]*\"|'[^']*'|[^\s,;&]+)"
)
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\n|$)", re.DOTALL)
_MIN_VALUE = 3  # shorter personal values would redact half of every message


def scrub_text(text: str, values: Iterable[str] = ()) -> str:
    """`text` without tokens, cookies, passwords, e-mail addresses and the given `values`.

    `values` are what the caller knows to be personal (an event's names, its answers): each is
    replaced wherever it appears, longest first.
    """
    for value in sorted({v for v in values if len(v) >= _MIN_VALUE}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    text = _SQL_PARAMETERS.sub(f"[parameters: {REDACTED}]", text)
    text = _HEADER_LINE.sub(lambda m: f"{m.group(1)}: {REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    text = _ASSIGNED.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _EMAIL.sub(REDACTED, text)


def personal_values(document: Any) -> list[str]:
    """Every string held under a personal or secret key of `document`, at any depth."""
    found: list[str] = []

    def walk(node: Any, sensitive: bool) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(value, sensitive or str(key).lower() in SENSITIVE_KEYS)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item, sensitive)
        elif isinstance(node, str) and sensitive:
            found.append(node)

    walk(document, False)
    return found


def personal_values_in_json(raw: bytes | str) -> list[str]:
    """The personal values of bytes that may or may not be JSON (a poison record)."""
    try:
        return personal_values(json.loads(raw))
    except ValueError:
        return []


def redact(value: Any, key: str = "") -> Any:
    """`value` with what is under a sensitive key replaced and every string scrubbed."""
    if key.lower() in SENSITIVE_KEYS and value not in (None, ""):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def error_message(exc: BaseException, values: Iterable[str] = ()) -> str:
    """The message of `exc`, scrubbed; a database error keeps only the driver's first line.

    SQLAlchemy's text of a failed statement carries the statement's parameters (when the
    engine does not hide them) and the driver's DETAIL lines, which quote rows ("Failing row
    contains ...", "Key (email)=(...)"): both go, the first line (what went wrong, which
    constraint) stays.
    """
    original = getattr(exc, "orig", None)
    if isinstance(original, BaseException):
        first = (str(original).strip().splitlines() or [""])[0]
        message = f"({_qualified(original)}) {first}"
    else:
        message = str(exc)
    return scrub_text(message, values)


def describe_error(exc: BaseException, values: Iterable[str] = ()) -> str:
    """The class of `exc` and its scrubbed message: what a dead letter and a log keep."""
    message = error_message(exc, values)
    return f"{_qualified(exc)}: {message}" if message else _qualified(exc)


def _qualified(exc: BaseException) -> str:
    kind = type(exc)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
