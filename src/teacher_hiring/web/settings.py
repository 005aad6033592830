"""Every setting of the web process, read from WEB_* environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

# The module, not the class: `teacher-hiring serve` takes the one *Settings class defined here.
from teacher_hiring.runtime import auth_settings, registration_limits


class WebSettings(auth_settings.AuthSettings, registration_limits.RegistrationLimitSettings):
    """Where the pages listen, where their accounts live and where the services answer.

    `environment` and `auth_secret` come from AuthSettings: the web process signs the tokens
    it sends to the services with the platform's secret (docs/security.md).
    """

    model_config = SettingsConfigDict(env_prefix="WEB_")

    host: str = "127.0.0.1"
    port: int = Field(8700, ge=1, le=65535)
    database_url: str = Field(
        "sqlite:///var/web.db",
        description="Accounts, password hashes and sessions; shared by every web instance",
    )
    exercises_url: str = "http://127.0.0.1:8701"
    hiring_url: str = "http://127.0.0.1:8702"
    bonus_url: str = "http://127.0.0.1:8703"
    api_timeout_s: float = Field(5.0, gt=0, description="How long a page waits for a service")
    person_token_ttl_s: float = Field(
        300, gt=0, description="Lifetime of the token minted for a signed-in person's calls"
    )
    session_ttl_s: float = Field(
        7 * 24 * 3600, gt=0, description="How long a sign-in lasts (sign-out ends it at once)"
    )
    invitation_ttl_s: float = Field(
        7 * 24 * 3600, gt=0, description="How long a manager's first-visit link stays valid"
    )
    confirmation_ttl_s: float = Field(
        2 * 24 * 3600, gt=0, description="How long a sign-up's email confirmation link works"
    )
    smtp_host: str | None = Field(
        None,
        description="The mail relay that sends confirmation links (plain SMTP, no login: a "
        "relay on the machine or the network that takes it on); unset: development only",
    )
    smtp_port: int = Field(25, ge=1, le=65535)
    mail_from: str = Field("no-reply@teacher-hiring.invalid", description="The links' sender")
    sign_in_free_failures: int = Field(
        5, ge=1, description="Failed sign-ins (per email, per address) before they slow down"
    )
    sign_in_max_delay_s: float = Field(
        15 * 60, gt=0, description="The longest wait imposed after repeated failures"
    )
