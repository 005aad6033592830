"""Bearer tokens: who is calling, and as what (docs/security.md).

A token is a JWT signed with HS256 under the secret every service of one platform shares
(`*_AUTH_SECRET`), so any service can check a token another one handed out, and no service
has to ask another who a caller is. Its header names the key it was signed with (`kid`, a
digest of the secret, never the secret): a verifier accepts its current key and the others it
is given (`AcceptedKey`), each until its own time, so keys rotate without downtime. Its claims:

- `sub`: whom it names: a candidate's or manager's id, an operator's name, a service's name;
- `role`: one of `Role` (candidate, manager, operator, service);
- `aud`: the services it is for (a list of names); a service refuses a token not naming it;
- `iat`, `exp`: when it was minted and when it stops being accepted (epoch seconds);
- `iss`: the platform that minted it (`ISSUER`).

Nothing here knows about HTTP: `runtime/auth.py` turns a refusal into a 401 or 403.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import jwt

ISSUER = "teacher-hiring"
ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
"""RFC 7518 §3.2: an HS256 key has at least as many bytes as the hash (PyJWT warns below it)."""

LEEWAY_S = 10
"""Clocks of the machines of one platform may differ by this much."""

VERIFIED_CACHE_SIZE = 4096
"""Tokens whose signature was checked, kept so a candidate's next request skips the HMAC and
the JSON parsing: a token's claims cannot change, only its time can run out."""


SERVICE_NAMES = ("exercises", "hiring", "bonus")
"""The audiences a token may name: the services that verify tokens."""


class Role(StrEnum):
    candidate = "candidate"
    manager = "manager"
    operator = "operator"
    service = "service"


DEFAULT_TTL_S: dict[Role, int] = {
    Role.candidate: 15 * 60,
    Role.manager: 15 * 60,
    Role.operator: 8 * 3600,
    Role.service: 3600,
}
"""Lifetimes of `teacher-hiring token` when `--ttl` is not given."""

SERVICE_TOKEN_TTL_S = 300
"""Lifetime of the tokens a service mints for its own calls (re-minted before they expire)."""


class InvalidToken(Exception):
    """The token cannot be accepted; the message says why, for the caller (a 401)."""


@dataclass(frozen=True)
class Claims:
    subject: str
    role: Role
    issued_at: int
    expires_at: int
    issuer: str = ISSUER
    audience: tuple[str, ...] = SERVICE_NAMES
    key_id: str = ""


def check_secret(secret: str) -> None:
    """Raise ValueError if the secret is too short to sign with."""
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"shorter than {MIN_SECRET_BYTES} bytes")


def key_id(secret: str) -> str:
    """The `kid` of tokens signed with `secret`: names the key without revealing it."""
    return hashlib.sha256(b"teacher-hiring kid\0" + secret.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class AcceptedKey:
    """A key tokens are still (or already) accepted under, besides the one that signs.

    The previous key after a rotation, with `until` (epoch seconds) when its tokens stop being
    accepted; or the next key, accepted everywhere before any service signs with it.
    """

    secret: str = field(repr=False)
    until: float | None = None

    def __post_init__(self) -> None:
        check_secret(self.secret)

    @property
    def kid(self) -> str:
        return key_id(self.secret)


def audiences(audience: str | Iterable[str]) -> tuple[str, ...]:
    """One audience or several, as a token names them."""
    names = (audience,) if isinstance(audience, str) else tuple(audience)
    if not names or not all(names):
        raise ValueError("audience: a token names the services it is for")
    return names


@dataclass(frozen=True)
class Tokens:
    """Mints and verifies the platform's tokens with one secret."""

    secret: str = field(repr=False)
    issuer: str = ISSUER
    leeway_s: int = LEEWAY_S
    access_ttl_s: float = DEFAULT_TTL_S[Role.candidate]
    """Lifetime of the tokens a service hands out to a person (`access_token`)."""
    accepted_keys: tuple[AcceptedKey, ...] = ()
    """Keys besides `secret` whose tokens verify (until their `until`)."""
    audience: str | None = None
    """The service verifying: a token must name it in `aud`. None: any audience (not a
    service, e.g. a test reading what it minted)."""
    not_before: Callable[[Role, str], float | None] | None = field(default=None, compare=False)
    """A subject's revocation: its tokens minted before this time are refused."""

    _verified: dict[str, Claims] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _keys: dict[str, AcceptedKey] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        check_secret(self.secret)
        for key in self.accepted_keys:
            self._keys[key.kid] = key
        self._keys[key_id(self.secret)] = AcceptedKey(self.secret)

    @property
    def kid(self) -> str:
        """The key id of the tokens this minter signs."""
        return key_id(self.secret)

    def mint(
        self,
        role: Role,
        subject: str,
        ttl_s: float,
        *,
        now: float | None = None,
        audience: str | Iterable[str] = SERVICE_NAMES,
    ) -> str:
        """A token for `audience` (by default every service) signed with the current key."""
        if not subject:
            raise ValueError("subject: a token names someone")
        if ttl_s <= 0:
            raise ValueError("ttl: a token lives a positive number of seconds")
        issued = int(time.time() if now is None else now)
        claims = {
            "sub": subject,
            "role": Role(role).value,
            "aud": list(audiences(audience)),
            "iat": issued,
            "exp": issued + max(1, int(ttl_s)),
            "iss": self.issuer,
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM, headers={"kid": self.kid})

    def access_token(self, role: Role, subject: str, audience: str | Iterable[str]) -> str:
        """The token handed to a candidate at registration, to a manager at creation."""
        return self.mint(role, subject, self.access_ttl_s, audience=audience)

    def verify(self, token: str) -> Claims:
        """The token's claims, or InvalidToken naming what is wrong with it.

        A token verified before is only checked for time again (expiry and not-yet-issued,
        within the leeway), exactly as jwt.decode would; the signature, issuer and claims of
        the same string are what they were.
        """
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()  # cheap and rare; the next requests verify again
            self._verified[token] = claims
        now = time.time()
        until = self._keys[claims.key_id].until
        if until is not None and now >= until:
            raise InvalidToken("token: signed with a retired key (its acceptance has ended)")
        if now >= claims.expires_at + self.leeway_s:
            raise InvalidToken("token: expired")
        if now < claims.issued_at - self.leeway_s:
            raise InvalidToken("token: issued in the future")
        if self.not_before is not None:
            revoked_at = self.not_before(claims.role, claims.subject)
            if revoked_at is not None and claims.issued_at <= revoked_at:
                raise InvalidToken(f"token: revoked (the {claims.role}'s tokens were revoked)")
        return claims

    def _decode(self, token: str) -> Claims:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"token: not a valid token ({exc})") from exc
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token: no key id ('kid' header)")
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken(f"token: signed with a key this service does not accept (kid {kid})")
        try:
            claims = jwt.decode(
                token,
                key.secret,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={
                    "require": ["sub", "role", "aud", "iat", "exp", "iss"],
                    "verify_aud": False,
                },
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token: expired") from exc
        except jwt.InvalidSignatureError as exc:
            raise InvalidToken("token: bad signature (not signed by this platform)") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken(f"token: wrong issuer (this platform is {self.issuer!r})") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"token: no {exc.claim!r} claim") from exc
        except jwt.InvalidAlgorithmError as exc:
            raise InvalidToken(f"token: not signed with {ALGORITHM}") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidToken("token: issued in the future") from exc
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"token: not a valid token ({exc})") from exc
        role = claims["role"]
        if role not in Role.__members__:
            known = ", ".join(Role)
            raise InvalidToken(f"token: unknown role {role!r} (roles: {known})")
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise InvalidToken("token: 'sub' must name someone")
        aud = claims["aud"]
        named = (aud,) if isinstance(aud, str) else tuple(aud) if isinstance(aud, list) else ()
        if not named or not all(isinstance(name, str) for name in named):
            raise InvalidToken("token: 'aud' must name the services it is for")
        if self.audience is not None and self.audience not in named:
            raise InvalidToken(
                f"token: not for this service (its audience is {', '.join(named)}; "
                f"this is {self.audience})"
            )
        return Claims(
            subject=claims["sub"],
            role=Role(role),
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
            issuer=claims["iss"],
            audience=named,
            key_id=kid,
        )


class ServiceToken:
    """The token one service sends on its calls to another, re-minted before it expires.

    It names the calling service (`sub`) and the one called (`aud`): a token for hiring is
    refused by bonus. Shared by the threads of a process (relay, consumers, request handlers):
    at worst two of them mint a fresh token at the same moment, which is harmless.
    """

    def __init__(
        self,
        tokens: Tokens,
        service: str,
        audience: str | Iterable[str],
        ttl_s: float = SERVICE_TOKEN_TTL_S,
    ) -> None:
        self._tokens = tokens
        self._service = service
        self._audience = audiences(audience)
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._token = ""
        self._renew_at = 0.0

    def token(self) -> str:
        now = time.time()
        with self._lock:
            if now >= self._renew_at:
                self._token = self._tokens.mint(
                    Role.service, self._service, self._ttl_s, now=now, audience=self._audience
                )
                self._renew_at = now + self._ttl_s / 2
            return self._token

    def headers(self) -> dict[str, str]:
        """The Authorization header of a call."""
        return {"Authorization": f"Bearer {self.token()}"}
