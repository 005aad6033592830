"""The route rules over HTTP: 401 for who cannot be known, 403 for who may not do this.

A small app with one route per rule stands in for the services; the services' own routes are
tried in the integration tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from teacher_hiring.runtime import auth
from teacher_hiring.runtime.tokens import Claims, Role, Tokens

SECRET = "a-secret-of-at-least-thirty-two-bytes"
tokens = Tokens(SECRET)
CANDIDATE = "6f1c2b9e-8d1a-4c55-9a43-0b7f7d3c1e10"
OTHER_CANDIDATE = "0d9a7c1e-2b44-4f0e-8e61-3c5a9b7d2f21"


def make_app() -> FastAPI:
    app = FastAPI()
    auth.install(app, tokens)
    operator_only = APIRouter(
        prefix="/operator", dependencies=[Depends(auth.require(Role.operator))]
    )

    @operator_only.get("/things")
    def things() -> dict[str, str]:
        return {"seen": "things"}

    @app.get("/staff")
    def staff(
        claims: Claims = Depends(auth.require(Role.manager, Role.operator)),
    ) -> dict[str, str]:
        return {"sub": claims.subject}

    @app.get("/candidates/{candidate_id}")
    def candidate(
        candidate_id: str,
        claims: Claims = Depends(auth.themself(Role.candidate, "candidate_id")),
    ) -> dict[str, str]:
        return {"candidate": candidate_id, "by": claims.role}

    @app.post("/api/push", dependencies=[Depends(auth.require(Role.service))])
    def push() -> dict[str, bool]:
        return {"taken": True}

    @app.post("/exercises")
    def write(author_id: str, claims: auth.ClaimsDep) -> dict[str, str]:
        auth.ensure_themself(claims, Role.manager, author_id, "author_id")
        return {"author": author_id}

    app.include_router(operator_only)
    return app


client = TestClient(make_app())


def bearer(role: Role, subject: str = "someone", *, minted: Tokens = tokens) -> dict[str, str]:
    return {"Authorization": f"Bearer {minted.mint(role, subject, 60)}"}


def test_no_token_is_401_with_a_bearer_challenge() -> None:
    response = client.get("/operator/things")

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "bearer token is required" in response.json()["detail"]


def test_another_scheme_is_401_saying_what_is_expected() -> None:
    response = client.get("/operator/things", headers={"Authorization": "Basic b3A6b3A="})

    assert response.status_code == 401
    assert "Bearer <token>" in response.json()["detail"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: tokens.mint(Role.operator, "op", 60, now=time.time() - 3600), "expired"),
        (lambda: Tokens("x" * 40).mint(Role.operator, "op", 60), "does not accept"),
        (lambda: Tokens(SECRET, issuer="elsewhere").mint(Role.operator, "op", 60), "wrong issuer"),
        (lambda: "garbage", "not a valid token"),
    ],
    ids=["expired", "forged", "another-issuer", "garbage"],
)
def test_a_token_that_does_not_verify_is_401_naming_why(
    token: Callable[[], str], reason: str
) -> None:
    response = client.get("/operator/things", headers={"Authorization": f"Bearer {token()}"})

    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("role", [Role.candidate, Role.manager, Role.service])
def test_an_operator_router_refuses_other_roles_with_403(role: Role) -> None:
    response = client.get("/operator/things", headers=bearer(role))

    assert response.status_code == 403
    assert response.json()["detail"] == f"role: this needs operator; the token's role is {role}"


def test_an_operator_passes_the_operator_router() -> None:
    assert client.get("/operator/things", headers=bearer(Role.operator)).json() == {
        "seen": "things"
    }


@pytest.mark.parametrize(
    ("role", "status"), [(Role.manager, 200), (Role.operator, 200), (Role.candidate, 403)]
)
def test_any_of_several_roles(role: Role, status: int) -> None:
    assert client.get("/staff", headers=bearer(role)).status_code == status


def test_a_candidate_reads_themself_in_any_spelling_of_their_id() -> None:
    response = client.get(
        f"/candidates/{CANDIDATE.upper()}", headers=bearer(Role.candidate, CANDIDATE)
    )

    assert response.status_code == 200


def test_a_candidate_may_not_read_another_candidate() -> None:
    response = client.get(
        f"/candidates/{OTHER_CANDIDATE}", headers=bearer(Role.candidate, CANDIDATE)
    )

    assert response.status_code == 403
    assert response.json()["detail"].startswith("candidate_id: a candidate may only act for")


def test_an_operator_reads_any_candidate_and_a_manager_none() -> None:
    path = f"/candidates/{CANDIDATE}"

    assert client.get(path, headers=bearer(Role.operator)).json()["by"] == "operator"
    assert client.get(path, headers=bearer(Role.manager, CANDIDATE)).status_code == 403


@pytest.mark.parametrize(
    ("role", "status"), [(Role.service, 200), (Role.operator, 403), (Role.manager, 403)]
)
def test_a_push_endpoint_takes_only_services(role: Role, status: int) -> None:
    assert client.post("/api/push", headers=bearer(role)).status_code == status


@pytest.mark.parametrize(
    ("role", "subject", "status"),
    [(Role.manager, "m-1", 200), (Role.manager, "m-2", 403), (Role.operator, "op", 200)],
)
def test_an_author_writes_as_themself_unless_an_operator(
    role: Role, subject: str, status: int
) -> None:
    response = client.post("/exercises", params={"author_id": "m-1"}, headers=bearer(role, subject))

    assert response.status_code == status
    if status == 403:
        assert response.json()["detail"].startswith("author_id: ")


def test_the_openapi_document_names_the_bearer_scheme() -> None:
    document: dict[str, Any] = client.get("/openapi.json").json()

    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    operation = document["paths"]["/operator/things"]["get"]
    assert {"bearer": []} in operation["security"]
    assert {"401", "403"} <= set(operation["responses"])
    problem = operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"]
    assert problem.rsplit("/", 1)[-1] in document["components"]["schemas"]
