"""The HTTP API's bodies: field constraints and descriptions become the OpenAPI document."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from teacher_hiring.exercises.domain.model import (
    ANSWER_MAX,
    ANSWERS_MAX,
    EMAIL_MAX,
    NAME_MAX,
    STATEMENT_MAX,
    TITLE_MAX,
    is_email,
)

CheckMode = Literal["exact", "normalized"]
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX, description="Full name")]


def _email(text: str) -> str:
    if not is_email(text):
        raise ValueError("is not an email address")
    return text


Email = Annotated[
    str,
    Field(max_length=EMAIL_MAX, description="Email address", json_schema_extra={"format": "email"}),
    AfterValidator(_email),
]
Title = Annotated[
    str, Field(min_length=1, max_length=TITLE_MAX, description="Short title of the exercise")
]
Statement = Annotated[
    str, Field(min_length=1, max_length=STATEMENT_MAX, description="The text candidates see")
]
Answer = Annotated[str, Field(min_length=1, max_length=ANSWER_MAX)]
Answers = Annotated[
    list[Answer],
    Field(
        min_length=1,
        max_length=ANSWERS_MAX,
        description="Answers that count as correct; never shown to candidates",
    ),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewManager(_Body):
    name: Name
    email: Email


class ManagerChanges(_Body):
    name: Name | None = None
    email: Email | None = None


class Manager(BaseModel):
    id: str
    name: str
    email: str
    open_assignments: int = Field(description="Complication assignments this manager holds open")
    created_at: str
    updated_at: str


class NewExercise(_Body):
    author_id: str = Field(description="The manager who writes the exercise (must exist)")
    title: Title
    statement: Statement
    accepted_answers: Answers
    check_mode: CheckMode = Field(
        "normalized",
        description="exact, or normalized: trim, case-fold and collapse inner whitespace",
    )


class ExerciseEdit(_Body):
    editor_id: str = Field(description="The manager saving the new version (must exist)")
    title: Title | None = None
    statement: Statement | None = None
    accepted_answers: Answers | None = None
    check_mode: CheckMode | None = None
    expected_version: int | None = Field(
        None, ge=1, description="The version the editor started from; refused if not current"
    )


class Exercise(BaseModel):
    id: str
    title: str
    statement: str
    accepted_answers: list[str]
    check_mode: CheckMode
    author_id: str
    version: int = Field(description="1 when created, +1 on every edit")
    status: Literal["active", "needs_complication"]
    created_at: str
    updated_at: str = Field(description="When the current version was saved")


class SavedExercise(Exercise):
    pushed: bool = Field(
        description="The new version reached hiring before this response (push mode only)"
    )
    closed_assignment_ids: list[str] = Field(
        description="Complication assignments this save completed (each paid once)"
    )


class ExerciseVersion(BaseModel):
    exercise_id: str
    version: int
    title: str
    statement: str
    accepted_answers: list[str]
    check_mode: CheckMode
    edited_by: str
    saved_at: str


class Assignment(BaseModel):
    id: str
    exercise_id: str
    exercise_version: int = Field(description="The leaked version to complicate")
    assignee_id: str
    status: Literal["open", "closed"]
    opened_at: str
    closed_at: str | None
    closed_with_version: int | None = Field(description="The version whose save closed it")
    source_event_id: str | None


class LeakReport(BaseModel):
    """Extra fields are ignored: the old callers of this endpoint send more than it reads."""

    exercise_id: str
    title: str
    author_id: str
    candidate_id: str
    event_id: uuid.UUID | None = Field(
        None, description="Id of the report; the same id is applied once, here or as an event"
    )


class ComplicationResult(BaseModel):
    assignment_id: str | None = Field(description="The assignment for the leaked version, if any")
    created: bool = Field(description="This call opened it")
    outcome: Literal["opened", "duplicate", "stale"] = Field(
        description="stale: the leaked version was already replaced, so nothing was opened"
    )


class ExerciseRef(BaseModel):
    exercise_id: str


class Candidate(BaseModel):
    candidate_id: str
    name: str
    status: Literal["candidate", "teacher"]
    exercises_to_solve: list[ExerciseRef]
    exercises_solved: list[ExerciseRef]
    created_at: str | None
    updated_at: str


class IssuedTotal(BaseModel):
    manager_id: str
    payment_cents: int
    payment_count: int


class Error(BaseModel):
    """The body of every refusal by a rule of this service."""

    detail: str = Field(description="What was wrong, starting with the field it concerns")
    error: str = Field(description="The name of the rule broken, e.g. VersionConflict")
    field: str | None = Field(None, description="The request field the refusal is about")
    current_version: int | None = Field(None, description="With VersionConflict only")
