"""A body over max_request_bytes is refused with 413, however it is sent, by a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from integration.credentials import OPERATOR
from integration.http_server import serving
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.hiring.bootstrap import bootstrap
from teacher_hiring.hiring.settings import HiringSettings

pytestmark = pytest.mark.integration

LIMIT = 2048


@pytest.fixture(scope="module")
def hiring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("limits")
    settings = HiringSettings(
        database_url=f"sqlite:///{folder}/hiring.db",
        event_log_url=f"sqlite:///{folder}/events.db",
        run_workers=False,
        log_level="critical",
        max_request_bytes=LIMIT,
    )
    with serving(bootstrap(settings), free_port()) as url:
        yield url


def candidate(name_length: int) -> bytes:
    return orjson.dumps({"name": "x" * name_length, "email": "ivan@mail.example"})


def chunks(body: bytes, size: int = 500) -> Iterator[bytes]:
    """An iterator has no length: httpx sends it with Transfer-Encoding: chunked."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def post_chunked(url: str, body: bytes) -> httpx.Response:
    request = httpx.Request(
        "POST",
        f"{url}/candidates",
        content=chunks(body),
        headers={"content-type": "application/json"},
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    with httpx.Client(timeout=30) as client:
        return client.send(request)


def test_a_chunked_body_over_the_limit_is_refused_with_413_naming_the_body(hiring: str) -> None:
    response = post_chunked(hiring, candidate(3 * LIMIT))

    assert response.status_code == 413
    assert response.json() == {"detail": f"body: larger than {LIMIT} bytes"}
    written = httpx.get(f"{hiring}/candidates", headers=OPERATOR).json()
    assert written["total"] == 0  # nothing was written
    assert httpx.get(f"{hiring}/health").status_code == 200  # and the service goes on


def test_a_chunked_body_one_byte_over_the_limit_is_refused(hiring: str) -> None:
    at_limit = candidate(0)
    padded = candidate(LIMIT - len(at_limit))
    assert len(padded) == LIMIT

    assert post_chunked(hiring, padded + b" ").status_code == 413
    # At the limit the body is read: the name is too long for the rules, so 422 naming it.
    refused = post_chunked(hiring, padded)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "name"]


def test_a_chunked_body_within_the_limit_is_read_as_any_other(hiring: str) -> None:
    response = post_chunked(hiring, candidate(10))

    # Read and understood: no exercise exists yet, so nothing can be assigned.
    assert response.status_code == 409
    assert response.json()["error"] == "NoExercisesAvailable"


def test_a_declared_content_length_over_the_limit_is_refused_before_reading(hiring: str) -> None:
    response = httpx.post(
        f"{hiring}/candidates",
        content=candidate(3 * LIMIT),
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json() == {"detail": f"body: larger than {LIMIT} bytes"}


NOT_UTF8 = b'{"name": "\xff\xfe\xfa"}'


def test_a_body_that_is_not_utf8_json_is_422_naming_the_body(hiring: str) -> None:
    response = httpx.post(
        f"{hiring}/candidates", content=NOT_UTF8, headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    (issue,) = response.json()["detail"]
    assert issue["loc"] == ["body"]
    assert issue["msg"].startswith("body: not JSON text")


def test_the_registry_answers_a_body_that_is_not_utf8_json_in_its_own_shape(hiring: str) -> None:
    response = httpx.post(
        f"{hiring}/registry/subjects/BonusAdded",
        content=NOT_UTF8,
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["error_code"] == 422
    assert "body: not JSON text" in response.json()["message"]
