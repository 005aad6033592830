"""Who may call a route: FastAPI dependencies over the platform's bearer tokens.

A route (or a whole router, with `dependencies=[...]`) names the rule it needs:

- `require(Role.operator)`: any caller holding one of these roles;
- `themself(Role.candidate, "candidate_id")`: the candidate the path names, or an operator;
- `themself(Role.manager, "manager_id")`: the manager the path names, or an operator;
- `require(Role.service)`: another service of the platform (its push and sync endpoints).

No token, or one that cannot be verified (expired, forged, another issuer, an unknown role), is
401 with `WWW-Authenticate: Bearer`; a valid token whose holder may not do this is 403. Both
answer `{"detail": "..."}` saying why, like every other refusal of the services.
The verifier is the app's `state.tokens` (`install`), built from the service's settings.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from teacher_hiring.runtime.bad_requests import Problem
from teacher_hiring.runtime.tokens import Claims, InvalidToken, Role, Tokens

SCHEME = "bearer"
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name=SCHEME,
    description="A token from `teacher-hiring token <role> [<subject>]`, from a candidate's "
    "registration or from a manager's creation (docs/security.md)",
)

ClaimsDependency = Callable[..., Awaitable[Claims]]


REFUSALS: dict[str, str] = {
    "401": "No bearer token, or one that does not verify (expired, forged, another issuer, "
    "an unknown role)",
    "403": "The token's role may not do this, or it names another candidate or manager",
}


def install(app: FastAPI, tokens: Tokens | None) -> None:
    """Let the app's routes verify tokens signed with this secret (None: refuse every token),
    and document 401 and 403 on every operation that needs a token."""
    app.state.tokens = tokens
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return _with_refusals(generate())

    app.openapi = openapi  # type: ignore[method-assign]


def _with_refusals(document: dict[str, Any]) -> dict[str, Any]:
    """Every operation that names the bearer scheme may answer 401 and 403, as a `Problem`."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Problem", Problem.model_json_schema())
    problem = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if {SCHEME: []} in operation.get("security", []):
                for status, description in REFUSALS.items():
                    operation["responses"].setdefault(
                        status, {"description": description, "content": problem}
                    )
    return document


def _unauthorized(detail: str, *, token_given: bool) -> HTTPException:
    challenge = 'Bearer realm="teacher-hiring"'
    if token_given:
        challenge += ', error="invalid_token"'
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": challenge})


def forbidden(detail: str) -> HTTPException:
    """A 403: the caller is known, and may not do this."""
    return HTTPException(status_code=403, detail=detail)


async def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Claims:
    """The caller's verified claims, or 401."""
    tokens = await _tokens(request)
    if credentials is None:
        if request.headers.get("authorization"):
            raise _unauthorized("Authorization: expected 'Bearer <token>'", token_given=True)
        raise _unauthorized(
            "Authorization: a bearer token is required (docs/security.md)", token_given=False
        )
    try:
        return tokens.verify(credentials.credentials)
    except InvalidToken as exc:
        raise _unauthorized(str(exc), token_given=True) from exc


ClaimsDep = Annotated[Claims, Depends(authenticated)]


async def optional_caller(request: Request) -> Claims | None:
    """On a public route: None without an `Authorization` header, else the caller's verified
    claims, or 401 as on any other route (a token sent is never silently ignored). Read from
    the header itself, so the route's OpenAPI operation stays without a security requirement."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != SCHEME or not token.strip():
        raise _unauthorized("Authorization: expected 'Bearer <token>'", token_given=True)
    tokens = await _tokens(request)
    try:
        return tokens.verify(token.strip())
    except InvalidToken as exc:
        raise _unauthorized(str(exc), token_given=True) from exc


OptionalCallerDep = Annotated[Claims | None, Depends(optional_caller)]


def holds_operator_token(request: Request) -> bool:
    """Whether the request carries a valid operator's token; never refuses (for a public
    route that shows operators more, such as `/ready`)."""
    tokens: Tokens | None = getattr(request.app.state, "tokens", None)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if tokens is None or scheme.lower() != "bearer" or not token:
        return False
    try:
        return tokens.verify(token.strip()).role is Role.operator
    except InvalidToken:
        return False


async def _tokens(request: Request) -> Tokens:
    tokens: Tokens | None = getattr(request.app.state, "tokens", None)
    if tokens is None:
        raise RuntimeError("this app was built without the platform's secret (auth.install)")
    return tokens


TokensDep = Annotated[Tokens, Depends(_tokens)]
"""For a route that hands out a token (a registration, a manager's creation)."""


def _names(roles: Iterable[Role]) -> str:
    return " or ".join(role.value for role in roles)


def require(*roles: Role) -> ClaimsDependency:
    """A dependency admitting a caller with any of these roles."""
    allowed = frozenset(roles)

    async def with_role(claims: ClaimsDep) -> Claims:
        if claims.role not in allowed:
            raise forbidden(f"role: this needs {_names(roles)}; the token's role is {claims.role}")
        return claims

    with_role.__name__ = f"require_{'_or_'.join(role.value for role in roles)}"
    return with_role


def same_id(one: str, other: str) -> bool:
    """Ids compared as the services store them: a UUID in any spelling, else exactly."""
    try:
        return uuid.UUID(one) == uuid.UUID(other)
    except ValueError:
        return one == other


def ensure_themself(
    claims: Claims,
    role: Role,
    subject_id: str,
    field: str,
    also: Iterable[Role] = (Role.operator,),
) -> None:
    """403 unless the caller is the `role` whose id is `subject_id`, or has a role in `also`."""
    others = tuple(also)
    if claims.role in others:
        return
    if claims.role is not role:
        needed = f"the {role} themself" + (f" or {_names(others)}" if others else "")
        raise forbidden(f"role: this needs {needed}; the token's role is {claims.role}")
    if not same_id(claims.subject, subject_id):
        raise forbidden(f"{field}: a {role} may only act for themself (the token names another)")


def themself(
    role: Role, path_param: str, *, also: Iterable[Role] = (Role.operator,)
) -> ClaimsDependency:
    """A dependency admitting the `role` whose id is the path's `path_param`, or `also`."""
    others = tuple(also)

    async def as_themself(request: Request, claims: ClaimsDep) -> Claims:
        if path_param not in request.path_params:
            raise RuntimeError(f"{request.url.path}: no path parameter {path_param!r} to compare")
        ensure_themself(claims, role, str(request.path_params[path_param]), path_param, others)
        return claims

    as_themself.__name__ = f"{role.value}_themself"
    return as_themself


def ensure_producer(claims: Claims, event_name: str, producer: str) -> None:
    """403 unless the calling service is the producer of `event_name`: a synchronous link takes
    an event only from the service that owns it (a service token's `sub` is its name)."""
    if claims.role is not Role.service or claims.subject != producer:
        raise forbidden(
            f"caller: {event_name} is taken from {producer}, its producer, only; the token "
            f"names the {claims.role} {claims.subject!r}"
        )


OPERATOR = Depends(require(Role.operator))
"""The `/operator/...` endpoints, and what only whoever runs the platform may change."""
OPERATOR_OR_SERVICE = Depends(require(Role.operator, Role.service))
"""Operator endpoints another service calls too (reconciliation reading what was issued)."""
SERVICE = Depends(require(Role.service))
"""The endpoints by which one service pushes to or calls another."""
STAFF = Depends(require(Role.manager, Role.operator))
"""What any manager of the school may read, and operators."""
