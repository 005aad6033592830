"""Who is asking: the session cookie, the signed-in person, the roles a page admits, CSRF.

The session cookie `th_session` holds a random 32-byte value; the accounts database keeps only
its SHA-256 (accounts.store), so the cookie carries no secret in clear and a stolen database
opens no session. It is HttpOnly, SameSite=Lax, Secure when the request came over https, and
Path=/. Sign-out revokes the session row: a copy of the cookie stops working at once.

Cross-site request forgery: every form that changes state carries a hidden `csrf` field,
checked on POST against a secret of the session (a synchronizer token). Before signing in
(the sign-in and registration forms) there is no session yet: the secret is then an HMAC,
under a key derived from the platform's secret, of a random visitor cookie `th_visitor`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response

from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web.accounts.store import Account, Accounts
from teacher_hiring.web.settings import WebSettings

SESSION_COOKIE = "th_session"
VISITOR_COOKIE = "th_visitor"
CSRF_FIELD = "csrf"

HOME = {
    Role.candidate: "/candidate",
    Role.manager: "/manager",
    Role.operator: "/operator",
}
"""Where each role lands after signing in."""


class NotSignedIn(Exception):
    """The page is for signed-in people: the visitor is sent to the sign-in page."""


class Forbidden(Exception):
    """The page is not this person's (another candidate's, or another role's): a 403 page."""


class CsrfRefused(Exception):
    """A state-changing form came without its CSRF token, or with another one: a 403 page."""


@dataclass(frozen=True)
class Person:
    """The signed-in person, as every page sees them."""

    account_id: str
    email: str
    role: Role
    subject_id: str
    """The candidate's or manager's id in its service; an operator's email."""
    name: str
    csrf: str
    """The session's CSRF secret, the hidden `csrf` field of every form."""

    @property
    def home(self) -> str:
        return HOME.get(self.role, "/")


def accounts_of(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def settings_of(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def signed_in(request: Request) -> Person | None:
    """The person of the request's session cookie, or None (no cookie, revoked, expired)."""
    if hasattr(request.state, "person"):
        found: Person | None = request.state.person
        return found
    person = None
    value = request.cookies.get(SESSION_COOKIE)
    if value:
        session = accounts_of(request).session(value)
        if session is not None:
            a = session.account
            person = Person(a.id, a.email, a.role, a.subject_id, a.name, session.csrf_secret)
    request.state.person = person
    return person


def current_person(request: Request) -> Person:
    """The signed-in person; NotSignedIn (to the sign-in page) otherwise."""
    person = signed_in(request)
    if person is None:
        raise NotSignedIn(request.url.path)
    return person


PersonDep = Annotated[Person, Depends(current_person)]
MaybePersonDep = Annotated[Person | None, Depends(signed_in)]


def require_role(*roles: Role) -> Callable[[Request], Awaitable[Person]]:
    """A dependency: the signed-in person, if they have one of `roles`; Forbidden otherwise.

    On the event loop, not in a worker thread: the session's lookup is one indexed read."""

    async def dependency(request: Request) -> Person:
        person = current_person(request)
        if person.role not in roles:
            raise Forbidden(f"This page is for {' or '.join(roles)}s.")
        return person

    return dependency


def require_self(role: Role, path_param: str) -> Callable[[Request], Awaitable[Person]]:
    """A dependency: the signed-in person of `role` whose own id is the path's `path_param`
    (a candidate's pages are theirs alone); Forbidden for anyone else."""

    async def dependency(request: Request) -> Person:
        person = current_person(request)
        if person.role is not role or request.path_params.get(path_param) != person.subject_id:
            raise Forbidden("This page belongs to someone else.")
        return person

    return dependency


# -- CSRF -----------------------------------------------------------------------------------


def _visitor_secret(request: Request, visitor: str) -> str:
    key = hashlib.sha256(
        b"teacher-hiring web csrf\0" + settings_of(request).secret.encode()
    ).digest()
    return hmac.new(key, visitor.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The value of the hidden `csrf` field of this request's forms."""
    person = signed_in(request)
    if person is not None:
        return person.csrf
    return _visitor_secret(request, visitor_id(request))


def visitor_id(request: Request) -> str:
    """The visitor cookie's value; a new one (set on the response by the middleware) if none."""
    existing = request.cookies.get(VISITOR_COOKIE) or getattr(request.state, "new_visitor", None)
    if existing:
        return str(existing)
    request.state.new_visitor = secrets.token_urlsafe(32)
    return str(request.state.new_visitor)


async def check_csrf(request: Request) -> None:
    """A dependency of every state-changing POST: the form's `csrf` field must be this
    session's (or this visitor's) secret."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not sent:
        raise CsrfRefused("The form came without its security token")
    person = signed_in(request)
    if person is not None:
        expected = person.csrf
    else:
        visitor = request.cookies.get(VISITOR_COOKIE)
        if not visitor:
            raise CsrfRefused("The form came without its security token")
        expected = _visitor_secret(request, visitor)
    if not hmac.compare_digest(sent, expected):
        raise CsrfRefused("The form's security token is not this session's")


CSRF = Depends(check_csrf)


# -- cookies --------------------------------------------------------------------------------


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def start_session(request: Request, response: Response, account: Account) -> None:
    """Sign `account` in: a new session, its cookie on `response`."""
    settings = settings_of(request)
    value = accounts_of(request).open_session(account.id, settings.session_ttl_s)
    set_cookie(request, response, SESSION_COOKIE, value, int(settings.session_ttl_s))


def end_session(request: Request, response: Response) -> None:
    """Sign out: the session row is revoked, the cookie deleted."""
    value = request.cookies.get(SESSION_COOKIE)
    if value:
        accounts_of(request).revoke(value)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request)
    )
