"""Where a request came from, as a keyed hash of the client's address (an "origin").

hiring keeps the origin of each candidate's registration, exercises the origins of each
manager's own requests; a complication payment whose leaked completions came mostly from the
assignee's own candidates or address waits for an operator (docs/security.md, "Payments held
for review"). Neither service keeps an address: an origin is an HMAC-SHA256 of it under a key
derived from the platform's secret, hex, cut to 32 characters, so the same address gives the
same origin in every service of one platform, and nobody without the secret can tell which
address an origin is.

The machine's own address has no origin (None): behind the platform's TCP proxy every client
is 127.0.0.1, and so is the web process calling the services (the reasoning of the
registration limits, foundation.rate_limits.counted_address). So the web pages forward the
person's origin in `X-Client-Origin`, with `X-Client-Origin-Proof`: an HMAC, under another key
derived from the secret, over that origin and the request's bearer token. A service takes the
forwarded origin only when the proof verifies; otherwise (no header, or a proof that does not
verify) the origin is the direct client's. Only the platform's processes hold the secret, so
nobody else can make a request count as coming from someone else's address.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from teacher_hiring.foundation.rate_limits import counted_address

ORIGIN_HEADER = "X-Client-Origin"
PROOF_HEADER = "X-Client-Origin-Proof"
ORIGIN_CHARS = 32


def _derived(secret: str, purpose: bytes) -> bytes:
    return hashlib.sha256(b"teacher-hiring " + purpose + b"\0" + secret.encode()).digest()


class Origins:
    """The origins of one platform (its signing secret)."""

    def __init__(self, secret: str) -> None:
        self._origin_key = _derived(secret, b"client origin")
        self._proof_key = _derived(secret, b"client origin proof")

    def of_address(self, host: str | None) -> str | None:
        """The origin of a client address; None for the machine's own or a non-IP one."""
        address = counted_address(host)
        if address is None:
            return None
        digest = hmac.new(self._origin_key, address.encode(), hashlib.sha256).hexdigest()
        return digest[:ORIGIN_CHARS]

    def proof(self, origin: str, bearer_token: str | None) -> str:
        """The proof a platform process sends with a forwarded origin."""
        message = f"{origin}\0{bearer_token or ''}".encode()
        return hmac.new(self._proof_key, message, hashlib.sha256).hexdigest()

    def forwarded(self, host: str | None, bearer_token: str | None) -> dict[str, str]:
        """The headers forwarding the origin of the person at `host` (none for the machine's
        own address)."""
        origin = self.of_address(host)
        if origin is None:
            return {}
        return {ORIGIN_HEADER: origin, PROOF_HEADER: self.proof(origin, bearer_token)}

    def of_request(self, request: Request) -> str | None:
        """The forwarded origin when its proof verifies, else the direct client's."""
        origin = request.headers.get(ORIGIN_HEADER, "")
        sent = request.headers.get(PROOF_HEADER, "")
        if origin and sent and _is_origin(origin):
            expected = self.proof(origin, bearer_token_of(request))
            if hmac.compare_digest(sent.encode(), expected.encode()):
                return origin
        return self.of_address(request.client.host if request.client else None)


def bearer_token_of(request: Request) -> str | None:
    """The request's bearer token as sent, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _is_origin(text: str) -> bool:
    return len(text) == ORIGIN_CHARS and all(c in "0123456789abcdef" for c in text)


def request_origin(request: Request) -> str | None:
    """The request's origin, by the app's `Origins` (`app.state.origins`); a dependency."""
    origins: Origins | None = getattr(request.app.state, "origins", None)
    if origins is None:
        raise RuntimeError("this app was built without the platform's origins (app.state)")
    return origins.of_request(request)
