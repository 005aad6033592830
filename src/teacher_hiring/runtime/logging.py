"""Structured logs: one JSON object a line, with the trace id bound by messaging.tracing.

Nothing personal and no credential reaches a log line: every event goes through `redact_event`
(personal and secret keys replaced, tokens and e-mail addresses cut out of every string), and
exceptions are rendered with scrubbed messages, both structlog's and the standard library's
(uvicorn, SQLAlchemy). docs/security.md, "Logs and dead letters".
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import MutableMapping
from types import TracebackType
from typing import Any

import structlog

from teacher_hiring.foundation.redaction import describe_error, redact

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def configure_logging(service: str, level: str = "info", fmt: str = "json") -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_event,
            structlog.processors.ExceptionRenderer(format_exception),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ScrubbingFormatter(logging.BASIC_FORMAT))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    for name in UVICORN_LOGGERS:
        # uvicorn's own logging set-up, if one ran in this process, writes past the scrubbing
        # root handler: its loggers are made to go through it.
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
        uvicorn_logger.disabled = False


UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: personal fields, credentials and tokens out of every value."""
    for key, value in list(event_dict.items()):
        if key != "exc_info":
            event_dict[key] = redact(value, key)
    return event_dict


def format_exception(exc_info: ExcInfo) -> str:
    """A traceback whose messages (of the exception and of its causes) are scrubbed."""
    _kind, exc, _tb = exc_info
    seen: set[int] = set()
    current: BaseException | None = exc
    chain: list[tuple[BaseException, str]] = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        cause = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
        link = (
            "The above exception was the direct cause of the following exception:"
            if current.__cause__ is not None
            else "During handling of the above exception, another exception occurred:"
        )
        chain.append((current, link if cause is not None else ""))
        current = cause
    parts: list[str] = []
    for error, link in reversed(chain):
        if link:
            parts.append(f"\n{link}\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(error.__traceback__))
        parts.append(describe_error(error) + "\n")
    return "".join(parts).rstrip("\n")


class ScrubbingFormatter(logging.Formatter):
    """The standard library's log lines (uvicorn's, SQLAlchemy's) with scrubbed messages and
    tracebacks."""

    def format(self, record: logging.LogRecord) -> str:
        record.msg = redact(record.getMessage())
        record.args = None
        return super().format(record)

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        if ei[1] is None:
            return ""
        return format_exception((ei[0], ei[1], ei[2]))
