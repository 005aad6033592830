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

Not checked: that every schema-valid request is accepted. Some valid requests are refused by
rules a schema cannot state (a period's end after its start, ids that name nothing, the
registry's writes that are always refused because it is read-only), with documented 4xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
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
