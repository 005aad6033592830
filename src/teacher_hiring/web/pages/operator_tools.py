"""The operators' tools: dead letters, reconciliation, link modes and event versions.

Included in the operators' router (prefix /operator). Each change is two POSTs: the first
shows what will change (the service's own dry run where it has one) and asks to confirm; the
second, with `confirm=yes`, does it and shows the result.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from teacher_hiring.runtime.tokens import Role
from teacher_hiring.web import staff_api
from teacher_hiring.web.api import SERVICES, Refused, Service, ServiceDown
from teacher_hiring.web.auth import CSRF, Person, require_role
from teacher_hiring.web.format import whole_number
from teacher_hiring.web.pages.common import (
    CONFIRMED,
    calls_of,
    confirm_then_act,
    form_errors,
)
from teacher_hiring.web.rendering import render

router = APIRouter(dependencies=[Depends(require_role(Role.operator))])

OperatorDep = Annotated[Person, Depends(require_role(Role.operator))]
FormText = Annotated[str, Form()]


def _service(name: str) -> Service:
    for service in SERVICES:
        if service == name:
            return service
    raise Refused("web", 404, {"detail": f"There is no service {name!r}."})


def _state_of(
    states: list[dict[str, Any]], service: str, what: str, key: str, name: str
) -> dict[str, Any]:
    """The state of the link or event family `name` that `service` owns, or a 404 page."""
    found = next((s for s in states if s["owner"] == service and s[key] == name), None)
    if found is None:
        raise Refused("web", 404, {"detail": f"There is no {what} {name!r} on {service}."})
    return found


# -- dead letters ------------------------------------------------------------------------------


@router.get("/dead-letters")
def dead_letters_page(request: Request, person: OperatorDep, status: str = "pending") -> Response:
    """Every service's dead letters, newest first; a service that is down is named."""
    calls = calls_of(request, person)
    wanted = status if status in ("pending", "replayed", "applied") else None
    params = {"limit": 100} | ({"status": wanted} if wanted else {})
    listing: list[dict[str, Any]] = []
    down: list[str] = []
    counts: dict[str, dict[str, Any]] = {}
    for service in SERVICES:
        try:
            page = staff_api.dead_letters(calls, service, **params)
        except ServiceDown:
            down.append(service)
            continue
        listing += [{**item, "service": service} for item in page["items"]]
        counts[service] = page["topics"]
    listing.sort(key=lambda item: item["dead_lettered_at"], reverse=True)
    context = {
        "title": "Dead letters",
        "letters": listing,
        "down": down,
        "counts": counts,
        "status": wanted,
    }
    return render(request, "operators/dead_letters.html", context)


@router.get("/dead-letters/{service}/{topic}/{letter_id}")
def dead_letter_page(
    request: Request, person: OperatorDep, service: str, topic: str, letter_id: str
) -> Response:
    found = staff_api.dead_letter(calls_of(request, person), _service(service), topic, letter_id)
    context = {
        "title": f"Dead letter {topic} {letter_id}",
        "letter": found,
        "service": service,
        "event": None if found["event"] is None else json.dumps(found["event"], indent=2),
    }
    return render(request, "operators/dead_letter.html", context)


@router.post("/dead-letters/replay", dependencies=[CSRF])
def replay(
    request: Request,
    person: OperatorDep,
    service: FormText,
    topic: FormText = "",
    ids: FormText = "",
    confirm: FormText = "",
) -> Response:
    """First the service's dry run (what a replay would do with each), then the replay."""
    target = _service(service)
    body: dict[str, Any] = {"dry_run": confirm != CONFIRMED}
    if topic:
        body["topic"] = topic
    chosen = [part for part in ids.split() if part]
    if chosen:
        body["ids"] = chosen
    answer = staff_api.replay(calls_of(request, person), target, body)
    context = {
        "title": "Replay" if answer["dry_run"] else "Replayed",
        "answer": answer,
        "service": service,
        "topic": topic,
        "ids": " ".join(chosen),
    }
    return render(request, "operators/replay.html", context)


@router.post("/dead-letters/purge", dependencies=[CSRF])
def purge(
    request: Request,
    person: OperatorDep,
    service: FormText,
    topic: FormText,
    force: FormText = "",
    confirm: FormText = "",
) -> Response:
    """Confirm first (naming the topic and how many dead letters go), then purge."""
    target = _service(service)
    calls = calls_of(request, person)
    context: dict[str, Any] = {
        "title": f"Purge {topic}",
        "service": service,
        "topic": topic,
        "force": force == CONFIRMED,
        "result": None,
        "refused": None,
    }

    def ask() -> dict[str, Any]:
        page = staff_api.dead_letters(calls, target, topic=topic, limit=1)
        return context | {"counts": page["topics"].get(topic, {"dead_letters": 0, "pending": 0})}

    def act() -> dict[str, Any] | Response:
        body = {"topic": topic, "force": context["force"]}
        try:
            return context | {"result": staff_api.purge(calls, target, body)}
        except Refused as exc:
            if exc.status != 409:
                raise
            refused = context | {"refused": exc.message}
            return render(request, "operators/purge.html", refused, status_code=409)

    return confirm_then_act(request, "operators/purge.html", confirm, ask=ask, act=act)


# -- reconciliation ----------------------------------------------------------------------------


def _window(since: str, until: str, manager_id: str) -> dict[str, str]:
    window = {"since": since.strip(), "until": until.strip(), "manager_id": manager_id.strip()}
    return {key: value for key, value in window.items() if value}


@router.get("/reconciliation")
def reconciliation_page(
    request: Request,
    person: OperatorDep,
    since: str = "",
    until: str = "",
    manager_id: str = "",
) -> Response:
    """The comparison of what was issued with the ledger: the dry run of a repair."""
    params = _window(since, until, manager_id)
    context: dict[str, Any] = {
        "title": "Reconciliation",
        "form": {"since": since, "until": until, "manager_id": manager_id},
        "report": None,
    }
    try:
        context["report"] = staff_api.reconciliation(calls_of(request, person), **params)
    except Refused as exc:
        if exc.status != 422:
            raise
        field = str(exc.body.get("field") or "since")
        errors = {field if field in context["form"] else "form": exc.message}
        return form_errors(request, "operators/reconciliation.html", context, errors)
    return render(request, "operators/reconciliation.html", context)


@router.post("/reconciliation/repair", dependencies=[CSRF])
def repair(
    request: Request,
    person: OperatorDep,
    since: FormText = "",
    until: FormText = "",
    manager_id: FormText = "",
    confirm: FormText = "",
) -> Response:
    """Confirm first (the differences a repair re-sends), then have the producers re-send."""
    calls = calls_of(request, person)
    params = _window(since, until, manager_id)
    form = {"since": since, "until": until, "manager_id": manager_id}

    def ask() -> dict[str, Any]:
        report = staff_api.reconciliation(calls, **params)
        return {"title": "Repair", "form": form, "report": report, "result": None}

    def act() -> dict[str, Any]:
        result = staff_api.repair(calls, **params)
        return {"title": "Repaired", "form": form, "report": result["report"], "result": result}

    return confirm_then_act(request, "operators/repair.html", confirm, ask=ask, act=act)


# -- link modes and event versions -------------------------------------------------------------


@router.get("/switches")
def switches_page(request: Request, person: OperatorDep) -> Response:
    calls = calls_of(request, person)
    context = {
        "title": "Links and event versions",
        "links": staff_api.links(calls),
        "versions": staff_api.event_versions(calls),
    }
    return render(request, "operators/switches.html", context)


@router.post("/switches/link", dependencies=[CSRF])
def switch_link(
    request: Request,
    person: OperatorDep,
    service: FormText,
    link: FormText,
    mode: FormText,
    confirm: FormText = "",
) -> Response:
    """Confirm first, naming the link, its current and new mode and the events it carries."""
    target = _service(service)
    calls = calls_of(request, person)
    current = _state_of(staff_api.links(calls), service, "link", "link", link)
    context: dict[str, Any] = {
        "title": f"Switch {link}",
        "service": service,
        "state": current,
        "mode": mode,
        "done": None,
    }
    return confirm_then_act(
        request,
        "operators/switch_link.html",
        confirm,
        ask=lambda: context,
        act=lambda: context | {"done": staff_api.switch_link(calls, target, link, mode)},
    )


@router.post("/switches/version", dependencies=[CSRF])
def switch_version(
    request: Request,
    person: OperatorDep,
    service: FormText,
    family: FormText,
    version: FormText,
    confirm: FormText = "",
) -> Response:
    """Confirm first, naming the family, its events and the version they will be produced at."""
    target = _service(service)
    calls = calls_of(request, person)
    states = staff_api.event_versions(calls)
    current = _state_of(states, service, "event family", "family", family)
    number = whole_number(version)
    if number is None:
        raise Refused("web", 404, {"detail": f"There is no event family {family!r} on {service}."})
    context: dict[str, Any] = {
        "title": f"Switch {family} events",
        "service": service,
        "state": current,
        "version": number,
        "done": None,
    }
    return confirm_then_act(
        request,
        "operators/switch_version.html",
        confirm,
        ask=lambda: context,
        act=lambda: (
            context | {"done": staff_api.switch_event_version(calls, target, family, number)}
        ),
    )
