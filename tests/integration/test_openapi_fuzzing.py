"""Every service answers generated requests, valid and invalid, as its OpenAPI document says.

Schemathesis reads each service's own /openapi.json and, for every operation, sends requests
that fit the document (positive) and requests that break it (negative: wrong types, values out
of bounds, missing fields, bytes that are not JSON) to the app that the service's bootstrap
builds, served by uvicorn on real SQLite databases and the embedded log in a temporary folder,
each service knowing where the others are. Each answer must:
- not be a server error (5xx);
- have a status code the document lists for the operation, and its content type;
- have a body and headers that match the schema documented for that status;
- be a refusal (4xx) when the request broke the document.

Then the same operations meet hostile requests (`test_hostile_requests_are_refused_never_a_500`):
a request that fits the document, made hostile one way, chosen by the fuzzer: its body nested
hundreds or thousands deep, a NUL in one of its strings, a number beyond 64 bits, a lone
surrogate escape or bytes that are not UTF-8, a NUL in a query parameter, an oversized header.
Each must be refused (4xx), never a 500 (runtime/input_bounds.py).

Not checked: that every schema-valid request is accepted. Some valid requests are refused by
rules a schema cannot state (a period's end after its start, ids that name nothing, the
registry's writes that are always refused because it is read-only), with documented 4xx.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from integration.credentials import OPERATOR, SERVICE, as_candidate
from integration.http_server import serving
from teacher_hiring.bonus.bootstrap import bootstrap as bonus
from teacher_hiring.bonus.settings import BonusSettings
from teacher_hiring.exercises.bootstrap import bootstrap as exercises
from teacher_hiring.exercises.settings import ExercisesSettings
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.hiring.bootstrap import bootstrap as hiring
from teacher_hiring.hiring.settings import HiringSettings

pytestmark = pytest.mark.integration

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 5}
"""Per operation: enough to try each field's bounds and types, few enough for about 15 s a
service on two cores."""
SHARED_ROUTES = "/registry/"
SHARED_ROUTES_FUZZED_ON = "bonus"
"""The registry's routes are one router that every service mounts: fuzzed on one of them."""


SERVICES = {
    "exercises": (exercises, ExercisesSettings),
    "hiring": (hiring, HiringSettings),
    "bonus": (bonus, BonusSettings),
}


def _app(name: str, folder: Path, urls: dict[str, str]) -> FastAPI:
    """The service as its bootstrap builds it, every `<service>_url` setting pointing at the
    other services of this platform."""
    build, settings_class = SERVICES[name]
    others = {
        f"{other}_url": url
        for other, url in urls.items()
        if f"{other}_url" in settings_class.model_fields
    }
    config = settings_class(
        database_url=f"sqlite:///{folder}/{name}.db",
        event_log_url=f"sqlite:///{folder}/events.db",
        run_workers=False,
        log_level="critical",
        **others,
    )
    return build(config)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The three services over HTTP, each knowing where the others are (reconciliation and
    COMM-070 call them), on SQLite and the embedded log in one temporary folder."""
    folder = tmp_path_factory.mktemp("fuzzed-platform")
    ports = {name: free_port() for name in SERVICES}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    with ExitStack() as stack:
        for name in SERVICES:
            stack.enter_context(serving(_app(name, folder, urls), ports[name]))
        yield urls


def _caller(case: schemathesis.Case) -> dict[str, str]:
    """A token that lets the request reach the route's own checks: the service's for the
    links' endpoints, the candidate's own for a submission, else an operator's."""
    if case.path.startswith("/api/"):
        return SERVICE
    candidate_id = (case.path_parameters or {}).get("candidate_id")
    if case.method.upper() == "POST" and isinstance(candidate_id, str) and candidate_id:
        return as_candidate(candidate_id)
    return OPERATOR


def _failures(operation: Any, mode: GenerationMode, examples: int) -> str | None:
    """What the generated requests of one operation in one mode broke, or None."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: a failure shows again at once
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def requests(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS, headers=_caller(case))

    try:
        requests()
    except Unsatisfiable:
        if mode is GenerationMode.NEGATIVE:
            return None  # nothing to break: an operation without parameters or body
        return f"{operation.label} ({mode.value}): no request fits its document"
    except (Exception, BaseExceptionGroup) as failure:  # schemathesis groups its findings
        return f"{operation.label} ({mode.value}):\n{failure}"
    return None


@pytest.mark.parametrize("service", ["bonus", "exercises", "hiring"])
def test_every_generated_request_is_answered_as_the_document_says(
    platform: dict[str, str], service: str
) -> None:
    schema = schemathesis.openapi.from_url(f"{platform[service]}/openapi.json")
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]  # too large: refused
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10, f"{service}: its document lists too few operations"
    if service != SHARED_ROUTES_FUZZED_ON:
        operations = [op for op in operations if not op.path.startswith(SHARED_ROUTES)]

    found = [
        failure
        for operation in operations
        for mode, examples in EXAMPLES.items()
        if (failure := _failures(operation, mode, examples)) is not None
    ]

    assert not found, f"{service}: {len(found)} operation(s) broke the document\n\n" + (
        "\n\n".join(found)
    )


HOSTILE = ("deep", "nul", "huge", "surrogate", "not utf-8", "nul in query", "header")
HOSTILE_EXAMPLES = 3
"""Per operation: the kinds are drawn, seeded; about three hundred requests in all."""


def _first_string(value: Any, replace: Any) -> tuple[Any, bool]:
    """`value` with its first string leaf (depth first) replaced by `replace(leaf)`."""
    if isinstance(value, str):
        return replace(value), True
    if isinstance(value, dict):
        for key, item in value.items():
            new, done = _first_string(item, replace)
            if done:
                return {**value, key: new}, True
    if isinstance(value, list):
        for index, item in enumerate(value):
            new, done = _first_string(item, replace)
            if done:
                return [*value[:index], new, *value[index + 1 :]], True
    return value, False


def _hostile_body(body: Any, kind: str, depth: int, huge: int) -> bytes | None:
    """The body made hostile in the `kind` way, or None when this kind is not a body's."""
    if kind == "deep":
        return b"[" * depth + json.dumps(body).encode() + b"]" * depth
    if kind == "huge":
        return json.dumps({"value": body, "count": huge}).encode()
    marker = {"nul": "\x00", "surrogate": "\ud800", "not utf-8": "\udcff"}.get(kind)
    if marker is None:
        return None
    changed, done = _first_string(body, lambda text: text + marker)
    if not done:
        changed = {"value": body, "note": marker}
    if kind == "not utf-8":  # an escape that is a byte no UTF-8 text holds, sent raw
        return json.dumps(changed).encode().replace(b"\\udcff", b"\xff")
    return json.dumps(changed).encode()


def _hostile_failure(client: httpx.Client, base_url: str, operation: Any) -> str | None:
    """What one operation answered to hostile requests that was not a refusal, or None."""
    problems: list[str] = []

    @given(
        case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        kind=st.sampled_from(HOSTILE),
        depth=st.integers(min_value=65, max_value=5000),
        huge=st.integers(min_value=2**63, max_value=2**200),
    )
    @settings(
        max_examples=HOSTILE_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def requests(case: schemathesis.Case, kind: str, depth: int, huge: int) -> None:
        sent = case.as_transport_kwargs(base_url=base_url, headers=_caller(case))
        headers = {k: v for k, v in sent.get("headers", {}).items() if k != "Content-Length"}
        params = dict(sent.get("params") or {})
        content: bytes | None = None
        if "json" in sent:
            content = _hostile_body(sent["json"], kind, depth, huge)
            headers["Content-Type"] = "application/json"
        if kind == "nul in query" or (content is None and kind != "header"):
            params["subject" if not params else next(iter(params))] = "a\x00b"
        if kind == "header":
            headers["X-Note"] = "a" * 10_000
        if content is None and "json" in sent:
            content = json.dumps(sent["json"]).encode()
        answer = client.request(
            sent["method"], sent["url"], params=params, headers=headers, content=content
        )
        if not 400 <= answer.status_code < 500:
            problems.append(f"{kind}: {answer.status_code} {answer.text[:200]}")

    requests()
    return f"{operation.label}: " + "; ".join(problems) if problems else None


@pytest.mark.parametrize("service", ["bonus", "exercises", "hiring"])
def test_hostile_requests_are_refused_never_a_500(platform: dict[str, str], service: str) -> None:
    schema = schemathesis.openapi.from_url(f"{platform[service]}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    if service != SHARED_ROUTES_FUZZED_ON:
        operations = [op for op in operations if not op.path.startswith(SHARED_ROUTES)]

    with httpx.Client(timeout=30) as client:
        found = [
            failure
            for operation in operations
            if (failure := _hostile_failure(client, platform[service], operation)) is not None
        ]

    assert not found, f"{service}: {len(found)} operation(s) answered hostile requests:\n" + (
        "\n".join(found)
    )
