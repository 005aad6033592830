"""What the pages share: calling the services as the signed-in person, the redirect after a
POST, a form shown again with its errors, a service's refusal as messages beside the form's
fields, and the operators' two-step actions (confirm, then act)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from teacher_hiring.web.api import Calls, Refused, api_of
from teacher_hiring.web.auth import Person
from teacher_hiring.web.rendering import render

CONFIRMED = "yes"


def calls_of(request: Request, person: Person | None) -> Calls:
    """The services' APIs, called as this person (None: anonymously), forwarding the origin
    of their address (runtime.origins)."""
    return api_of(request).as_person(person, request.client.host if request.client else None)


def see_other(path: str) -> RedirectResponse:
    """The redirect after a POST that worked."""
    return RedirectResponse(path, status_code=303)


def form_errors(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    errors: Mapping[str, str],
    *,
    status_code: int = 422,
) -> Response:
    """The form again with what the person typed, each error beside its field (`form` for
    one about the whole form)."""
    return render(request, template, {**context, "errors": errors}, status_code=status_code)


def refused_fields(exc: Refused, fields: Collection[str], *, short: bool = False) -> dict[str, str]:
    """A service's refusal as messages beside the fields it names (`form` for the others).

    A validation refusal names each field in its `loc`; another names at most one in its
    `field`. `short` keeps only what follows the message's "where: " and starts it with a
    capital.
    """
    if isinstance(exc.detail, list):
        errors: dict[str, str] = {}
        for item in exc.detail:
            if not isinstance(item, dict):
                continue
            where = [str(part) for part in item.get("loc", [])]
            field = next((part for part in where if part in fields), "form")
            errors.setdefault(field, str(item.get("msg", "Not accepted.")))
        if errors:
            return errors
    field = str(exc.body.get("field") or "form")
    message = exc.message
    if short:
        message = message.split(": ", 1)[-1]
        message = message[:1].upper() + message[1:]
    return {field if field in fields else "form": message}


Step = Callable[[], Mapping[str, Any] | Response]


def confirm_then_act(
    request: Request, template: str, confirm: str, *, ask: Step, act: Step
) -> Response:
    """An operator's two-step action on one page: the first POST shows what will change and
    asks to confirm (`ask`), the second, with `confirm=yes`, does it and shows the result
    (`act`). Either step gives the page's context, or a whole answer (a refusal)."""
    step = act if confirm == CONFIRMED else ask
    context = step()
    if isinstance(context, Response):
        return context
    return render(request, template, dict(context))
