"""Every setting of the hiring service, read from HIRING_* environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from teacher_hiring.hiring.domain.model import Rules
from teacher_hiring.runtime.settings import ServiceSettings


class HiringSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HIRING_")

    port: int = Field(8702, ge=1, le=65535)
    database_url: str = "sqlite:///var/hiring.db"

    # SPEC section 3: the business constants of hiring, in one place.
    exercises_per_candidate: int = Field(3, ge=1, description="Exercises assigned at registration")
    max_attempts_per_version: int = Field(
        5, ge=1, description="Attempts per candidate per exercise version (no brute force)"
    )
    max_answer_chars: int = Field(10_000, ge=1, description="Longest answer accepted")
    completions_before_complication: int = Field(
        10, ge=1, description="Completions of a version that pay a bonus; the next one leaks it"
    )
    bonus_base_cents: int = Field(
        1000, ge=0, description="Bonus at rating 0; scaled by (100 + rating) / 100"
    )
    fine_cents: int = Field(500, ge=1, description="Fine per completion of a leaked version")
    money_retention_s: float = Field(
        90 * 24 * 3600,
        gt=0,
        description="How long the money events this service issued are kept after sending, "
        "for reconciliation and its repair (re-sending under the original event id)",
    )

    # The link whose form can change at run time (the operator's flag starts from this).
    complication_link: Literal["event", "sync"] = Field(
        "event",
        description="COMM-030: ExerciseCompletedMoreThenTenTimes through the event log, or "
        "hiring's relay calling POST /api/complicate_exercise on exercises",
    )
    exercises_url: str = Field(
        "http://127.0.0.1:8701", description="Base URL of exercises (COMM-030 in sync mode)"
    )
    call_timeout_s: float = Field(
        2.0, gt=0, description="How long the relay waits for exercises in sync mode"
    )

    def rules(self) -> Rules:
        return Rules(
            exercises_per_candidate=self.exercises_per_candidate,
            max_attempts_per_version=self.max_attempts_per_version,
            max_answer_chars=self.max_answer_chars,
            completions_before_complication=self.completions_before_complication,
            bonus_base_cents=self.bonus_base_cents,
            fine_cents=self.fine_cents,
        )
