"""Signing in and out, registering as a candidate, and a manager's first-visit link."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from teacher_hiring.foundation.rate_limits import Refusal
from teacher_hiring.runtime.registration_limits import ALL, RegistrationLimits
from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web import mail
from teacher_hiring.web.accounts import passwords
from teacher_hiring.web.accounts.store import EmailTaken, normalized_email
from teacher_hiring.web.api import Refused
from teacher_hiring.web.auth import (
    CSRF,
    HOME,
    MaybePersonDep,
    Person,
    accounts_of,
    end_session,
    settings_of,
    start_session,
)
from teacher_hiring.web.pages.common import calls_of, form_errors, see_other
from teacher_hiring.web.rendering import render

router = APIRouter()

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SUBJECT = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FormText = Annotated[str, Form()]


def _safe_next(target: str | None) -> str | None:
    """Only a path of this site: never another site's address (an open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _unless_signed_in(
    request: Request,
    person: Person | None,
    template: str,
    context: dict[str, Any],
    *,
    then: str | None = None,
) -> Response:
    """A page for who is not signed in: a signed-in person goes on to `then`, or home."""
    if person is not None:
        return see_other(then or person.home)
    return render(request, template, context)


@router.get("/")
def home(request: Request, person: MaybePersonDep) -> Response:
    """The signed-in person's own home; the welcome page otherwise."""
    return _unless_signed_in(request, person, "sign_in/welcome.html", {"title": "Welcome"})


@router.get("/sign-in")
def sign_in_form(request: Request, person: MaybePersonDep, next: str | None = None) -> Response:
    then = _safe_next(next)
    context = {"title": "Sign in", "next": then}
    return _unless_signed_in(request, person, "sign_in/sign_in.html", context, then=then)


@router.post("/sign-in", dependencies=[CSRF])
def sign_in(
    request: Request,
    email: FormText = "",
    password: FormText = "",
    next: FormText = "",
) -> Response:
    """Check the password; after repeated failures (per email and per address), wait."""
    settings = settings_of(request)
    accounts = accounts_of(request)
    keys = _throttle_keys(request, email)
    context = {"title": "Sign in", "next": _safe_next(next), "form": {"email": email}}
    wait = accounts.wait_s(keys, settings.sign_in_free_failures, settings.sign_in_max_delay_s)
    if wait > 0:
        message = f"Too many failed sign-ins. Try again in {int(wait) + 1} seconds."
        return form_errors(
            request, "sign_in/sign_in.html", context, {"form": message}, status_code=429
        )
    account = accounts.check_password(email, password)
    if account is None:
        accounts.record_failure(keys)
        errors = {"password": "Wrong email or password."}
        return form_errors(request, "sign_in/sign_in.html", context, errors)
    accounts.clear_failures(keys)
    if accounts.is_pending(account.id):  # the right password, the email not confirmed yet
        token = accounts.renew_confirmation(account.id, settings.confirmation_ttl_s)
        return _confirmation_sent(request, account.email, token, status_code=403, again=True)
    response = see_other(_safe_next(next) or _home_of(account.role))
    start_session(request, response, account)
    return response


def _throttle_keys(request: Request, email: str) -> list[str]:
    """What failed sign-ins are counted against: the email, and the client's address unless
    it is the machine's own. Behind the platform's TCP proxy (the distributed run), or with
    every browser on one machine (`make run`), every client is 127.0.0.1: counting it would
    let one person's failures lock everyone out."""
    keys = [f"email:{normalized_email(email)}"]
    address = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = False
    if address and not loopback:
        keys.append(f"address:{address}")
    return keys


def _home_of(role: Role) -> str:
    return HOME.get(role, "/")


@router.post("/sign-out", dependencies=[CSRF])
def sign_out(request: Request) -> Response:
    """End the session: its cookie stops working, wherever it was copied."""
    response = see_other("/sign-in")
    end_session(request, response)
    return response


# -- registration ----------------------------------------------------------------------------


@router.get("/register")
def register_form(request: Request, person: MaybePersonDep) -> Response:
    context = {"title": "Register as a candidate"}
    return _unless_signed_in(request, person, "sign_in/register.html", context)


@router.post("/register", dependencies=[CSRF])
def register(
    request: Request,
    name: FormText = "",
    email: FormText = "",
    subject: FormText = "",
    password: FormText = "",
) -> Response:
    """Open a candidate's account, unusable until the link sent to the email is followed; hiring
    registers the candidate then (confirm)."""
    settings = settings_of(request)
    name = name.strip()
    email = normalized_email(email)
    subject = subject.strip().lower().replace(" ", "-")
    errors = _registration_problems(name, email, subject, password)
    context = {
        "title": "Register as a candidate",
        "form": {"name": name, "email": email, "subject": subject},
    }
    if not errors and not mail.can_send(settings):
        errors["form"] = (
            "Registration is closed: this platform cannot send e-mail yet. Ask its operators."
        )
    if errors:
        return form_errors(request, "sign_in/register.html", context, errors)
    limits: RegistrationLimits = request.app.state.registration_limits
    refusal = limits.take(request.client.host if request.client else None)
    if refusal is not None:  # a form with a mistake in it is not counted
        return _too_many(request, context, refusal)
    try:
        token = accounts_of(request).sign_up(
            email=email,
            name=name,
            teaches=subject or None,
            password=password,
            ttl_s=settings.confirmation_ttl_s,
        )
    except EmailTaken:
        errors = {"email": "This email already has an account: sign in instead."}
        return form_errors(request, "sign_in/register.html", context, errors)
    return _confirmation_sent(request, email, token)


def _confirmation_sent(
    request: Request, email: str, token: str, *, status_code: int = 200, again: bool = False
) -> Response:
    link = str(request.url_for("confirm_form", token=token))
    try:
        shown = mail.send_confirmation(settings_of(request), email, link)
    except mail.NotSent:
        message = (
            "The e-mail with your confirmation link could not be sent just now. Register again "
            "in a moment (or sign in, if you registered before): a new link is sent."
        )
        context = {"title": "Not sent", "message": message, "status": 503}
        return render(request, "errors/error.html", context, status_code=503)
    context = {"title": "Confirm your email", "email": email, "link": shown, "again": again}
    return render(request, "sign_in/confirm_sent.html", context, status_code=status_code)


@router.get("/confirm/{token}")
def confirm_form(request: Request, token: str) -> Response:
    """The link sent to a new candidate's email: a button, so that a mail scanner fetching
    the link confirms nothing."""
    sign_up = accounts_of(request).by_confirmation(token)
    if sign_up is None:
        return _invalid_confirmation(request)
    context = {"title": "Confirm your email", "account": sign_up.account, "token": token}
    return render(request, "sign_in/confirm.html", context)


@router.post("/confirm/{token}", dependencies=[CSRF])
def confirm(request: Request, token: str) -> Response:
    """Register the candidate with hiring (which assigns the exercises), then open the
    account. hiring's Idempotency-Key is the email's (registration_key): a confirmation sent
    again after a lost answer is answered with the candidate hiring made."""
    accounts = accounts_of(request)
    sign_up = accounts.by_confirmation(token)
    if sign_up is None:
        return _invalid_confirmation(request)
    account = sign_up.account
    context = {"title": "Confirm your email", "account": account, "token": token}
    try:
        candidate = calls_of(request, None).register_candidate(
            account.name,
            account.email,
            sign_up.teaches,
            registration_key(request, account.email),
        )
    except Refused as exc:
        errors = _registration_refused(exc)
        message = " ".join(errors.values())
        return form_errors(request, "sign_in/confirm.html", context, {"form": message})
    confirmed = accounts.confirm(token, candidate.id)
    if confirmed is None:
        return _invalid_confirmation(request)
    response = see_other(f"/candidates/{candidate.id}")
    start_session(request, response, confirmed)
    return response


def _invalid_confirmation(request: Request) -> Response:
    message = (
        "This link was used already, replaced by a newer one or has expired. Sign in to be "
        "sent a new one."
    )
    context = {"title": "Link not valid", "message": message, "status": 404}
    return render(request, "errors/error.html", context, status_code=404)


def _too_many(request: Request, context: dict[str, Any], refusal: Refusal) -> Response:
    who = "on the platform" if refusal.key == ALL else "from your address"
    message = (
        f"Too many registrations {who} just now. Try again in {refusal.retry_after_s} seconds."
    )
    response = form_errors(
        request, "sign_in/register.html", context, {"form": message}, status_code=429
    )
    response.headers["Retry-After"] = str(refusal.retry_after_s)
    return response


def registration_key(request: Request, email: str) -> str:
    """The Idempotency-Key of this email's registration with hiring: the same for every try,
    so a registration whose account was not opened here (the page's answer lost, the process
    stopped between the two) is answered again by hiring when the form is sent again, not
    refused as a second one. An HMAC under a key derived from the platform's secret: nobody
    without it can make the key and replay the registration through hiring's API."""
    secret = settings_of(request).secret.encode()
    key = hashlib.sha256(b"teacher-hiring web registration\0" + secret).digest()
    return "web-" + hmac.new(key, email.encode(), hashlib.sha256).hexdigest()


def _registration_problems(name: str, email: str, subject: str, password: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Your name, please."
    elif len(name) > 200:
        errors["name"] = "At most 200 characters."
    if not EMAIL.match(email) or len(email) > 320:
        errors["email"] = "An email address such as anna@example.org."
    if subject and (not SUBJECT.match(subject) or len(subject) > 50):
        errors["subject"] = "Lowercase letters, digits and hyphens, such as mathematics."
    problem = passwords.problem(password)
    if problem:
        errors["password"] = problem
    return errors


def _registration_refused(exc: Refused) -> dict[str, str]:
    if exc.error == "EmailAlreadyRegistered":
        return {"email": "A candidate with this email is registered already."}
    if exc.error == "IdempotencyKeyReused":
        return {
            "email": "This email was registered a moment ago with another name or subject: "
            "send them as you did the first time."
        }
    if exc.error == "NoExercisesAvailable":
        return {
            "subject": "There are no exercises of this subject yet. Leave it empty, choose "
            "another, or try again later."
        }
    if exc.status == 422 and isinstance(exc.detail, list):
        errors: dict[str, str] = {}
        for item in exc.detail:
            field = str(item.get("loc", ["", ""])[-1]) if isinstance(item, dict) else ""
            if field in ("name", "email", "subject"):
                errors[field] = str(item.get("msg", "Not accepted."))
        if errors:
            return errors
    return {"form": f"Registration refused: {exc.message}"}


# -- a manager's first visit -------------------------------------------------------------------


def first_visit_link(request: Request, token: str) -> str:
    """The absolute address of a first-visit link, as an operator is shown it once
    (the token from Accounts.invite or Accounts.renew_invitation)."""
    return str(request.url_for("first_visit_form", token=token))


@router.get("/welcome/{token}")
def first_visit_form(request: Request, token: str) -> Response:
    """The one-time link an operator gave a new manager: choose a password."""
    account = accounts_of(request).by_invitation(token)
    if account is None:
        return _invalid_link(request)
    context = {"title": "Choose your password", "account": account, "token": token}
    return render(request, "sign_in/first_visit.html", context)


@router.post("/welcome/{token}", dependencies=[CSRF])
def first_visit(
    request: Request, token: str, password: FormText = "", password_again: FormText = ""
) -> Response:
    accounts = accounts_of(request)
    account = accounts.by_invitation(token)
    if account is None:
        return _invalid_link(request)
    errors: dict[str, str] = {}
    problem = passwords.problem(password)
    if problem:
        errors["password"] = problem
    elif password != password_again:
        errors["password_again"] = "The two passwords differ."
    if errors:
        context = {"title": "Choose your password", "account": account, "token": token}
        return form_errors(request, "sign_in/first_visit.html", context, errors)
    accepted = accounts.accept_invitation(token, password)
    if accepted is None:
        return _invalid_link(request)
    response = see_other(_home_of(accepted.role))
    start_session(request, response, accepted)
    return response


def _invalid_link(request: Request) -> Response:
    message = "This link was used already or has expired. Ask an operator for a new one."
    context = {"title": "Link not valid", "message": message, "status": 404}
    return render(request, "errors/error.html", context, status_code=404)
