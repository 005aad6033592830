"""`POST /tokens/refresh`: a person's refresh token exchanged for a new access token and a new
refresh token (runtime/refresh_tokens.py); on the services that hand people their tokens
(hiring for candidates, exercises for managers). Public: the refresh token is the credential.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from teacher_hiring.runtime.refresh_tokens import RefreshRefused, RefreshTokens
from teacher_hiring.runtime.revocations import Revocations
from teacher_hiring.runtime.tokens import SERVICE_NAMES, Tokens


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200, description="The opaque token")


class TokensOut(BaseModel):
    access_token: str = Field(description="A bearer token for every service, short-lived")
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str = Field(
        description="The next refresh token; the one sent is used up (sending it again "
        "revokes the whole family)"
    )


def _refresh_tokens(request: Request) -> RefreshTokens:
    refresh: RefreshTokens = request.app.state.refresh_tokens
    return refresh


RefreshTokensDep = Annotated[RefreshTokens, Depends(_refresh_tokens)]

router = APIRouter(tags=["tokens"])


@router.post(
    "/tokens/refresh",
    response_model=TokensOut,
    responses={401: {"description": "Unknown, expired, revoked or already used"}},
)
def refresh(body: RefreshIn, request: Request, refresh_tokens: RefreshTokensDep) -> TokensOut:
    """Exchange a refresh token for a new access token and a new refresh token."""
    runtime = request.app.state.runtime
    tokens: Tokens = runtime.tokens
    revocations: Revocations | None = runtime.revocations
    owner = refresh_tokens.owner(body.refresh_token)
    not_before = revocations.not_before(*owner) if owner and revocations else None
    try:
        exchanged = refresh_tokens.exchange(body.refresh_token, not_before)
    except RefreshRefused as exc:
        raise HTTPException(401, detail=str(exc)) from exc
    return TokensOut(
        access_token=tokens.access_token(exchanged.role, exchanged.subject, SERVICE_NAMES),
        expires_in=int(tokens.access_ttl_s),
        refresh_token=exchanged.refresh_token,
    )
