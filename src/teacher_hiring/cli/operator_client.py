"""What every operator command shares: one HTTP call to a service, its failure as a message.

The commands talk to the services' operator endpoints, never to their databases, so they work
the same against one machine or a cluster. Each call carries an operator's token minted with
the platform's secret (TEACHER_HIRING_AUTH_SECRET, docs/security.md).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import typer
from rich.console import Console

from teacher_hiring.runtime.bearer import Bearer
from teacher_hiring.runtime.tokens import DEFAULT_TTL_S, Role

err = Console(stderr=True)

TIMEOUT_S = 5.0
OPERATOR = "operator"


def operator_token() -> str:
    """An operator's token under the platform's secret; a bad secret is a message and exit 2."""
    from teacher_hiring.cli.token import platform_auth

    return platform_auth().tokens().mint(Role.operator, OPERATOR, DEFAULT_TTL_S[Role.operator])


def auth() -> httpx.Auth:
    """An operator's bearer token on each request of a command."""
    return Bearer(operator_token)


def call(method: str, url: str, *, timeout_s: float = TIMEOUT_S, **kwargs: Any) -> Any:
    """The response's JSON; on a transport error or a non-2xx answer, a message and exit 1."""
    try:
        response = httpx.request(method, url, timeout=timeout_s, auth=auth(), **kwargs)
    except httpx.HTTPError as exc:
        err.print(f"[red]{url}: {exc}[/red]")
        raise typer.Exit(1) from exc
    if response.status_code >= 300:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        err.print(f"[red]{method} {url}: HTTP {response.status_code}: {detail}[/red]")
        raise typer.Exit(1)
    return response.json()


def switched(at: float | None) -> str:
    """When an operator set a flag, or 'settings' while the configured value holds."""
    return "settings" if at is None else time.strftime("%F %T", time.localtime(at))
