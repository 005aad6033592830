"""The HTTP API's bodies: field constraints and descriptions become the OpenAPI document."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from teacher_hiring.events.exercises import split_name
from teacher_hiring.exercises.domain.commands import CreateExercise, EditExercise, UpdateManager
from teacher_hiring.exercises.domain.model import (
    ANSWER_MAX,
    ANSWERS_MAX,
    DEFAULT_DIFFICULTY,
    DEFAULT_SUBJECT,
    DIFFICULTY_MAX,
    DIFFICULTY_MIN,
    EMAIL_MAX,
    KEEP,
    NAME_MAX,
    STATEMENT_MAX,
    SUBJECT_MAX,
    SUBJECT_PATTERN,
    TEAM_MAX,
    TITLE_MAX,
    CandidateSnapshot,
    is_email,
)
from teacher_hiring.foundation.time import rfc3339
from teacher_hiring.runtime.bad_requests import DB_INT_MAX

CheckMode = Literal["exact", "normalized"]
Name = Annotated[
    str,
    Field(
        min_length=1,
        max_length=NAME_MAX,
        description="Deprecated (US-170): the full name, split at its first run of whitespace "
        "into first_name and last_name; send those instead",
        json_schema_extra={"deprecated": True},
    ),
]
FirstName = Annotated[str, Field(min_length=1, max_length=NAME_MAX, description="Given name")]
LastName = Annotated[
    str, Field(max_length=NAME_MAX, description="Family name; empty for a manager with one name")
]
Team = Annotated[str, Field(min_length=1, max_length=TEAM_MAX, description="The manager's team")]
Subject = Annotated[
    str,
    Field(
        min_length=1,
        max_length=SUBJECT_MAX,
        pattern=SUBJECT_PATTERN,
        description="What the exercise is about, a lowercase slug (mathematics, "
        "russian-language); candidates of a subject are assigned exercises of it",
    ),
]
Difficulty = Annotated[
    int,
    Field(
        ge=DIFFICULTY_MIN,
        le=DIFFICULTY_MAX,
        description="How hard the author rates it, 1 (easiest) to 5 (hardest)",
    ),
]


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


class _Names(_Body):
    """first_name and last_name (US-170), or the old full `name`, not both."""

    first_name: FirstName | None = None
    last_name: LastName | None = None
    name: Name | None = None

    @model_validator(mode="after")
    def _one_form_of_the_name(self) -> Self:
        if self.name is not None and (self.first_name is not None or self.last_name is not None):
            raise ValueError("name: send either name or first_name and last_name, not both")
        return self

    def split(self) -> tuple[str | None, str | None]:
        """(first name, last name); None for what the request leaves as it is."""
        if self.name is not None:
            return split_name(self.name)
        return self.first_name, self.last_name


class NewManager(_Names):
    """{first_name, last_name, team, email}; the old {name, email} is still accepted."""

    team: Team | None = None
    email: Email

    @model_validator(mode="after")
    def _a_name_is_given(self) -> Self:
        if self.name is None and self.first_name is None:
            raise ValueError("first_name: required (or the full name as name)")
        return self


class ManagerChanges(_Names):
    """The fields to change; a field left out stays as it is. `team: null` removes the team."""

    team: Team | None = None
    email: Email | None = None

    def command(self, manager_id: str) -> UpdateManager:
        first_name, last_name = self.split()
        return UpdateManager(
            manager_id,
            first_name=first_name,
            last_name=last_name,
            team=self.team if "team" in self.model_fields_set else KEEP,
            email=self.email,
        )


class _Reply(BaseModel):
    """A response body, read from the attributes of the row or result it answers with."""

    model_config = ConfigDict(from_attributes=True)


class Manager(_Reply):
    id: str
    first_name: str
    last_name: str
    name: str = Field(description="For display: first and last name")
    team: str | None
    email: str
    open_assignments: int = Field(description="Complication assignments this manager holds open")
    created_at: str
    updated_at: str


class CreatedManager(Manager):
    access_token: str = Field(
        description="The manager's bearer token (docs/security.md), to be handed to them; "
        "shown only here"
    )
    refresh_token: str = Field(
        description="Exchanged at `POST /tokens/refresh` for the next access token; shown only here"
    )


class NewExercise(_Body):
    author_id: str = Field(description="The manager who writes the exercise (must exist)")
    title: Title
    statement: Statement
    accepted_answers: Answers
    check_mode: CheckMode = Field(
        "normalized",
        description="exact, or normalized: trim, case-fold and collapse inner whitespace",
    )
    subject: Subject = DEFAULT_SUBJECT
    difficulty: Difficulty = DEFAULT_DIFFICULTY

    def command(self) -> CreateExercise:
        return CreateExercise(
            **self.model_dump(exclude={"accepted_answers"}),
            accepted_answers=tuple(self.accepted_answers),
        )


class ExerciseEdit(_Body):
    editor_id: str = Field(description="The manager saving the new version (must exist)")
    title: Title | None = None
    statement: Statement | None = None
    accepted_answers: Answers | None = None
    check_mode: CheckMode | None = None
    subject: Subject | None = None
    difficulty: Difficulty | None = None
    expected_version: int | None = Field(
        None,
        ge=1,
        le=DB_INT_MAX,
        description="The version the editor started from; refused if not current",
    )

    def command(self, exercise_id: str, *, by_operator: bool = False) -> EditExercise:
        answers = self.accepted_answers
        return EditExercise(
            exercise_id,
            **self.model_dump(exclude={"accepted_answers"}),
            accepted_answers=None if answers is None else tuple(answers),
            by_operator=by_operator,
        )


class ExerciseText(_Reply):
    """What one version of an exercise says: the part every saved version keeps."""

    title: str
    statement: str
    accepted_answers: list[str] | None = Field(
        description="null for a manager who may not edit the exercise (neither its author nor "
        "the holder of its open complication assignment): they never see its answers"
    )
    check_mode: CheckMode
    subject: str
    difficulty: int


class Exercise(ExerciseText):
    id: str
    author_id: str
    version: int = Field(description="1 when created, +1 on every edit")
    status: Literal["active", "needs_complication"]
    created_at: str
    updated_at: str = Field(description="When the current version was saved")


class CreatedExercise(Exercise):
    pushed: bool = Field(
        description="The exercise reached hiring before this response, so candidates can be "
        "assigned it at once (push mode only)"
    )


class SavedExercise(Exercise):
    pushed: bool = Field(
        description="The new version reached hiring before this response (push mode only)"
    )
    closed_assignment_ids: list[str] = Field(
        description="Complication assignments this save completed (each paid once, or held)"
    )
    held_review_ids: list[str] = Field(
        default_factory=list,
        description="Payment reviews of the closed assignments whose payment is held for an "
        "operator's review instead of paid (most leaked completions were the assignee's own)",
    )


class ExerciseVersion(ExerciseText):
    exercise_id: str
    version: int
    edited_by: str
    saved_at: str


class Assignment(_Reply):
    id: str
    exercise_id: str
    exercise_version: int = Field(description="The leaked version to complicate")
    assignee_id: str
    status: Literal["open", "closed"]
    opened_at: str
    closed_at: str | None
    closed_with_version: int | None = Field(description="The version whose save closed it")
    source_event_id: str | None


class CompletionIn(BaseModel):
    """One candidate whose completion of the leaked version counted (the event's v2)."""

    candidate_id: str = Field(max_length=200)
    registered_by: str | None = Field(
        None, max_length=200, description="The manager whose token registered the candidate"
    )
    origin: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{32}$",
        description="A keyed hash of the address the candidate registered from",
    )


class LeakReport(BaseModel):
    """Extra fields are ignored: the old callers of this endpoint send more than it reads."""

    exercise_id: str
    exercise_version: int | None = Field(
        None,
        ge=1,
        le=DB_INT_MAX,
        description="The version solved more than ten times (the event's v1 carries it); left "
        "out, exercises asks hiring which version the candidate's completion was of",
    )
    title: str
    author_id: str
    candidate_id: str
    event_id: uuid.UUID | None = Field(
        None, description="Id of the report; the same id is applied once, here or as an event"
    )
    completed_by: list[CompletionIn] | None = Field(
        None,
        max_length=1000,
        description="The candidates whose completions counted (the event's v2); left out, the "
        "report carries no evidence and its payment is made as before",
    )


class ComplicationResult(_Reply):
    assignment_id: str | None = Field(description="The assignment for the leaked version, if any")
    created: bool = Field(description="This call opened it")
    outcome: Literal["opened", "duplicate", "stale"] = Field(
        description="stale: a later version already replaced the leaked one, so nothing was opened"
    )


class ExerciseRef(BaseModel):
    exercise_id: str


class Candidate(_Reply):
    candidate_id: str
    name: str
    status: Literal["candidate", "teacher"]
    exercises_to_solve: list[ExerciseRef]
    exercises_solved: list[ExerciseRef]
    created_at: str | None
    updated_at: str

    @classmethod
    def of(cls, candidate: CandidateSnapshot) -> Candidate:
        """The replica's state of a candidate, its times as RFC 3339 text."""
        return cls(
            candidate_id=candidate.candidate_id,
            name=candidate.name,
            status=candidate.status,
            exercises_to_solve=[ExerciseRef(exercise_id=e) for e in candidate.exercises_to_solve],
            exercises_solved=[ExerciseRef(exercise_id=e) for e in candidate.exercises_solved],
            created_at=None if candidate.created_at is None else rfc3339(candidate.created_at),
            updated_at=rfc3339(candidate.updated_at),
        )


class IssuedTotal(_Reply):
    manager_id: str
    payment_cents: int
    payment_count: int


class Error(BaseModel):
    """The body of every refusal by a rule of this service."""

    detail: str = Field(description="What was wrong, starting with the field it concerns")
    error: str = Field(description="The name of the rule broken, e.g. VersionConflict")
    field: str | None = Field(None, description="The request field the refusal is about")
    current_version: int | None = Field(None, description="With VersionConflict only")
