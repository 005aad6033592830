"""A bearer token on every request of an HTTP client, fresh for each one.

The services' own clients (push sinks, synchronous links, COMM-070, reconciliation) send
their service token this way; it is re-minted before it expires (runtime/tokens.py), so a
client built at start-up never sends a stale one. The operator's commands send theirs too.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import httpx


class Bearer(httpx.Auth):
    def __init__(self, token: Callable[[], str]) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token()}"
        yield request
