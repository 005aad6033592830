"""Every setting of the bonus service, read from BONUS_* environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from teacher_hiring.runtime.settings import ServiceSettings, service_url


class BonusSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BONUS_")

    port: int = Field(8703, ge=1, le=65535)
    database_url: str = "sqlite:///var/bonus.db"

    # COMM-070: reading a manager from exercises when the replica lacks them.
    exercises_url: str = service_url("exercises", "GET /managers/{id}")
    exercises_timeout_s: float = Field(
        0.3, gt=0, description="A slow exercises service must never slow an account page down"
    )
    manager_cache_ttl_s: float = Field(
        60.0, ge=0, description="How long a manager read from exercises is reused"
    )
    manager_failure_ttl_s: float = Field(
        5.0,
        ge=0,
        description="How long a failed or unknown lookup is remembered, so a down exercises "
        "service is not asked again on every request",
    )
    manager_cache_size: int = Field(10_000, ge=1, description="Managers kept in that cache")

    # Reconciliation: asking hiring and exercises what they issued.
    hiring_url: str = service_url("hiring", "GET /operator/money-issued, for reconciliation")
    reconciliation_timeout_s: float = Field(
        5.0, gt=0, description="How long reconciliation waits for a producer's answer"
    )
    reconciliation_settle_s: float = Field(
        60.0,
        ge=0,
        description="The default window of reconciliation ends this long ago: money issued "
        "more recently may still be on its way to the ledger",
    )
