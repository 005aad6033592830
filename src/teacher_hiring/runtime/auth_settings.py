"""The settings of authentication, shared by every service and by the operator's commands.

Every service of one platform signs and verifies tokens with the same secret: a token handed
out by hiring is checked by bonus without asking hiring. `teacher-hiring run` passes one
secret to all three (`TEACHER_HIRING_AUTH_SECRET`, else the development secret); a service
started on its own reads `<SERVICE>_AUTH_SECRET`. Outside development the well-known default
is refused, so a production deployment that forgot its secret does not start.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from teacher_hiring.runtime.tokens import MIN_SECRET_BYTES, Tokens, check_secret

DEVELOPMENT_SECRET = "teacher-hiring-development-secret-not-for-production"
"""Public on purpose: anyone can mint tokens with it, so only development accepts it."""

PLATFORM_PREFIX = "TEACHER_HIRING_"


class AuthSettings(BaseSettings):
    """Where a process runs and the secret its tokens are signed with."""

    environment: Literal["development", "production"] = Field(
        "development",
        description="production refuses the development secret",
    )
    auth_secret: SecretStr = Field(
        SecretStr(DEVELOPMENT_SECRET),
        description=f"Signs and verifies bearer tokens (HS256, at least {MIN_SECRET_BYTES} "
        "bytes); the same for every service of one platform",
    )
    access_token_ttl_s: float = Field(
        30 * 24 * 3600,
        gt=0,
        description="Lifetime of the tokens this service hands out: hiring a candidate's at "
        "registration, exercises a manager's at creation",
    )

    @model_validator(mode="after")
    def _a_secret_of_its_own(self) -> AuthSettings:
        name = f"{self.model_config.get('env_prefix', '')}AUTH_SECRET"
        secret = self.auth_secret.get_secret_value()
        if self.environment != "development" and secret == DEVELOPMENT_SECRET:
            raise ValueError(
                f"auth_secret: the development secret is public and refused in "
                f"{self.environment}; set {name} (the same on every service of the platform)"
            )
        try:
            check_secret(secret)
        except ValueError as exc:
            raise ValueError(f"auth_secret: {exc}; set {name} to a longer secret") from exc
        return self

    def tokens(self) -> Tokens:
        """The minter and verifier of tokens under this secret."""
        return Tokens(self.auth_secret.get_secret_value(), access_ttl_s=self.access_token_ttl_s)


class PlatformAuthSettings(AuthSettings):
    """What `teacher-hiring run` hands every service and what the operator's commands sign
    with: TEACHER_HIRING_ENVIRONMENT and TEACHER_HIRING_AUTH_SECRET."""

    model_config = SettingsConfigDict(env_prefix=PLATFORM_PREFIX)
