"""Sending a new candidate the link that confirms their email (docs/security.md).

With `WEB_SMTP_HOST` set, the link goes by e-mail through that relay (plain SMTP, no login:
a relay on the machine or the network, which takes care of TLS and delivery onward). Without
it, only in development: the link is written to the web process's log and shown on the page,
so that `make run` works with no mail server; in production, sign-ups are closed until a relay
is set, rather than accounts being made that nobody can confirm.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import structlog

from teacher_hiring.web.settings import WebSettings


class NotSent(Exception):
    """The relay did not take the message (refused, unreachable, timed out)."""


def can_send(settings: WebSettings) -> bool:
    return settings.smtp_host is not None or settings.environment == "development"


def send_confirmation(settings: WebSettings, email: str, link: str) -> str | None:
    """Send the link; the link again when the page may show it (development, no relay)."""
    if settings.smtp_host is not None:
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = email
        message["Subject"] = "Confirm your email for teacher hiring"
        message.set_content(
            "Someone, hopefully you, registered as a candidate with this email.\n"
            f"Open this link to confirm it and start your exercises:\n\n{link}\n\n"
            "If it was not you, ignore this message: nothing happens without the link.\n"
        )
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            structlog.get_logger(__name__).warning(
                "confirmation e-mail not sent", error=type(exc).__name__
            )
            raise NotSent(type(exc).__name__) from exc
        return None
    if settings.environment != "development":
        raise RuntimeError("no WEB_SMTP_HOST: confirmation links are not sent in production")
    log = structlog.get_logger(__name__)  # not one bound at import: the set-up of the moment
    log.warning("email confirmation link, not sent (development, no WEB_SMTP_HOST)", link=link)
    return link
