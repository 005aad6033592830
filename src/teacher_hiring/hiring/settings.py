"""Every setting of the hiring service, read from HIRING_* environment variables."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from teacher_hiring.foundation.records import from_mapping
from teacher_hiring.hiring.domain.model import Rules
from teacher_hiring.money import issued

# The module, not the class: `teacher-hiring serve` takes the one *Settings class defined here.
from teacher_hiring.runtime import registration_limits
from teacher_hiring.runtime.settings import (
    ServiceSettings,
    call_timeout,
    produced_version,
    service_url,
)

LinkMode = Literal["event", "sync"]


def _called_in_sync(link: str, event: str, call: str) -> Any:
    """A link an event takes through the log (`event` mode, the default) or, in `sync` mode,
    as the submission's own call to the receiver."""
    return Field(
        "event",
        description=f"{link}: {event} through the event log, or the submission calling {call}",
    )


class HiringSettings(ServiceSettings, registration_limits.RegistrationLimitSettings):
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
    money_retention_s: float = issued.retention_setting()

    leak_events_version: int = produced_version(
        "Version of ExerciseCompletedMoreThenTenTimes produced (2 adds who completed it, "
        "1 names the leaked exercise version, 0 is the seed's); the operator flag "
        "events.leak.version overrides it",
        newest=2,
    )

    # The links whose form can change at run time (the operator's flags start from these);
    # `sync` is the old wiring: the call is made inside the candidate's submission.
    complication_link: LinkMode = _called_in_sync(
        "COMM-030",
        "ExerciseCompletedMoreThenTenTimes",
        "POST /api/complicate_exercise on exercises",
    )
    bonus_credit_link: LinkMode = _called_in_sync(
        "COMM-040", "BonusAdded", "POST /api/v0/money on bonus"
    )
    fine_debit_link: LinkMode = _called_in_sync(
        "COMM-050", "FineAdded", "POST /api/v0/money on bonus"
    )
    answer_check_link: Literal["replica", "sync"] = Field(
        "replica",
        description="COMM-020: answers checked from hiring's replica of exercises, or from "
        "GET /exercises/{id} on exercises, called by the submission",
    )
    exercises_url: str = service_url("exercises", "COMM-020, 030 in sync mode")
    bonus_url: str = service_url("bonus", "COMM-040, 050 in sync mode")
    call_timeout_s: float = call_timeout(
        "How long a synchronous call to exercises or bonus may take (links in sync mode) "
        "before the submission fails with 504"
    )

    def rules(self) -> Rules:
        """The business constants above, as the domain's rules of the same names."""
        return from_mapping(Rules, self.model_dump())
