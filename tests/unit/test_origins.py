"""Origins: a keyed hash of a client's address, and a forwarded one taken only with its proof."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from teacher_hiring.runtime.origins import ORIGIN_HEADER, PROOF_HEADER, Origins, request_origin

SECRET = "s" * 40


def test_an_origin_is_a_keyed_hash_of_the_address_and_hides_it() -> None:
    origins = Origins(SECRET)
    origin = origins.of_address("203.0.113.7")
    assert origin is not None and len(origin) == 32 and int(origin, 16) >= 0
    assert "203" not in origin
    assert origins.of_address("203.0.113.7") == origin  # the same in every service
    assert origins.of_address("203.0.113.8") != origin
    assert Origins("t" * 40).of_address("203.0.113.7") != origin  # another platform's key


def test_the_machines_own_address_and_non_addresses_have_no_origin() -> None:
    origins = Origins(SECRET)
    for host in ("127.0.0.1", "::1", "testclient", "", None):
        assert origins.of_address(host) is None
        assert origins.forwarded(host, "token") == {}


def app_answering_its_origin() -> FastAPI:
    app = FastAPI()
    app.state.origins = Origins(SECRET)

    @app.get("/origin")
    def origin(found: str | None = Depends(request_origin)) -> dict[str, str | None]:
        return {"origin": found}

    return app


def origin_seen(headers: dict[str, str]) -> str | None:
    client = TestClient(app_answering_its_origin())
    found: str | None = client.get("/origin", headers=headers).json()["origin"]
    return found


def test_a_forwarded_origin_is_taken_with_its_proof_over_the_token_sent() -> None:
    origins = Origins(SECRET)
    forwarded = origins.forwarded("203.0.113.7", "the-token")
    with_token = {"Authorization": "Bearer the-token", **forwarded}
    assert origin_seen(with_token) == origins.of_address("203.0.113.7")
    anonymous = origins.forwarded("203.0.113.7", None)
    assert origin_seen(anonymous) == origins.of_address("203.0.113.7")


def test_a_forwarded_origin_without_a_valid_proof_is_ignored() -> None:
    origins = Origins(SECRET)
    origin = origins.of_address("203.0.113.7")
    assert origin is not None
    forwarded = origins.forwarded("203.0.113.7", "the-token")
    cases = [
        {"Authorization": "Bearer another-token", **forwarded},  # replayed with another token
        {"Authorization": "Bearer the-token", ORIGIN_HEADER: origin},  # no proof
        {"Authorization": "Bearer the-token", ORIGIN_HEADER: origin, PROOF_HEADER: "0" * 64},
        Origins("t" * 40).forwarded("203.0.113.7", None),  # another secret's proof
        {ORIGIN_HEADER: "not-hex", PROOF_HEADER: origins.proof("not-hex", None)},
    ]
    for headers in cases:
        assert origin_seen(headers) is None, headers  # the test client's own: no origin
