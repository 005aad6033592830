"""The templates, and the one function every page renders with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from teacher_hiring.web import format
from teacher_hiring.web.auth import CSRF_FIELD, csrf_token, signed_in

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(money=format.money, time_tag=format.time_tag, csrf_field=CSRF_FIELD)
templates.env.filters.update(format.FILTERS)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """The page, with what the base layout needs: the person, the CSRF token, the title."""
    values: dict[str, Any] = {
        "person": signed_in(request),
        "csrf": csrf_token(request),
        "errors": {},
        "form": {},
    }
    values.update(context or {})
    return templates.TemplateResponse(request, template, values, status_code=status_code)
