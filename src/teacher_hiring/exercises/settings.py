"""The exercises service's settings: process plumbing plus its business constants (SPEC §3)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from teacher_hiring.money import issued
from teacher_hiring.runtime.settings import (
    ServiceSettings,
    call_timeout,
    produced_version,
    service_url,
)


class ExercisesSettings(ServiceSettings):
    """Read from EXERCISES_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="EXERCISES_")

    port: int = Field(8701, ge=1, le=65535)
    database_url: str = "sqlite:///var/exercises.db"

    complication_payment_cents: int = Field(
        3000, ge=1, description="Paid to the assignee who complicates a leaked exercise (30.00)"
    )
    money_retention_s: float = issued.retention_setting()
    complication_assignee: Literal["author", "least_loaded"] = Field(
        "author",
        description="Who complicates a leaked exercise: its author, or the manager with the "
        "fewest open assignments (also the fallback when the author is unknown)",
    )
    exercise_updates_link: Literal["push", "event"] = Field(
        "push",
        description="ExerciseCreated and ExerciseUpdated pushed to hiring's POST "
        "/api/v0/exercise before the manager's creation or save returns, or published to the "
        "event log like every other event",
    )
    hiring_url: str = service_url("hiring", "push mode, and the version a v0 leak report concerned")
    hiring_lookup_timeout_s: float = Field(
        1.0,
        gt=0,
        description="How long to wait for hiring to say which version a v0 leak report "
        "concerned; the report is retried, never dropped, when it does not answer",
    )
    push_timeout_s: float = Field(
        2.0,
        gt=0,
        description="How long a creation or save waits for hiring to take the pushed event",
    )
    payment_link: Literal["event", "sync"] = Field(
        "event",
        description="COMM-080: PaymentCommited through the event log, or the manager's save "
        "calling POST /api/v0/money on bonus before it returns (the old wiring)",
    )
    bonus_url: str = service_url("bonus", "COMM-080 in sync mode")
    call_timeout_s: float = call_timeout(
        "How long the save's payment call to bonus may take (sync mode) before the save answers 504"
    )
    # US-160 and US-170: the version produced until an operator switches it at run time.
    exercise_events_version: int = produced_version(
        "Version of ExerciseCreated/ExerciseUpdated produced (1 carries subject and "
        "difficulty); the operator flag events.exercise.version overrides it",
    )
    manager_events_version: int = produced_version(
        "Version of ManagerCreated/ManagerUpdated produced (1: first and last name "
        "and team; 0: the full name); the operator flag events.manager.version overrides it",
    )
