"""The HTTP request and response bodies of hiring; their descriptions become the OpenAPI text."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from teacher_hiring.hiring.domain.model import SUBJECT_MAX, SUBJECT_PATTERN
from teacher_hiring.runtime.bad_requests import DB_INT_MAX

Status = Literal["candidate", "teacher"]
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
SUBJECT = "What an exercise is about, a lowercase slug (mathematics, russian-language)"
DIFFICULTY = "How hard its author rates it, 1 (easiest) to 5 (hardest)"


class CandidateIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="Full name of the candidate")
    email: str = Field(
        max_length=320,
        pattern=EMAIL_PATTERN,
        description="Email address, trimmed; one candidate per email, whatever its case (409)",
    )
    subject: str | None = Field(
        None,
        min_length=1,
        max_length=SUBJECT_MAX,
        pattern=SUBJECT_PATTERN,
        description="The subject the candidate teaches: only exercises of it are assigned; "
        "left out, exercises of any subject are",
    )

    @field_validator("email", mode="before")
    @classmethod
    def _trimmed(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class AssignedExercise(BaseModel):
    exercise_id: str
    title: str
    version: int = Field(description="The version the candidate must answer")
    subject: str = Field(description=SUBJECT)
    difficulty: int = Field(description=DIFFICULTY)


class CandidateCreatedOut(BaseModel):
    id: str
    name: str
    email: str
    subject: str | None = Field(description="The subject asked for at registration, if any")
    status: Status
    exercises: list[AssignedExercise]
    access_token: str = Field(
        description="The candidate's bearer token for their own routes (docs/security.md); "
        "shown only here and in the answer to the same request sent again with its "
        "Idempotency-Key"
    )
    refresh_token: str = Field(
        description="Exchanged at `POST /tokens/refresh` for the next access token; shown only here"
    )


class CandidateSummary(BaseModel):
    id: str
    name: str
    email: str
    subject: str | None = Field(description="The subject asked for at registration, if any")
    status: Status
    created_at: str
    updated_at: str


class CandidatePage(BaseModel):
    items: list[CandidateSummary]
    total: int
    limit: int
    offset: int


class CandidateExercise(BaseModel):
    exercise_id: str
    title: str | None
    version: int | None = Field(description="Current version in hiring's replica")
    solved: bool
    solved_version: int | None
    solved_at: str | None


class CandidateDetail(CandidateSummary):
    became_teacher_at: str | None = Field(
        description="When the candidate solved their last exercise and became a teacher "
        "(RFC 3339, UTC); null while a candidate"
    )
    exercises: list[CandidateExercise]


class ExerciseToSolve(BaseModel):
    exercise_id: str
    title: str
    statement: str
    subject: str = Field(description=SUBJECT)
    difficulty: int = Field(description=DIFFICULTY)
    version: int = Field(description="Send this version with the answer")
    solved: bool
    attempts_left: int = Field(description="Attempts left at this version")


class SubmissionIn(BaseModel):
    exercise_id: str = Field(min_length=1, max_length=36)
    exercise_version: int = Field(
        ge=1, le=DB_INT_MAX, description="The version the candidate was shown"
    )
    answer: str = Field(description="The answer; at most max_answer_chars (10,000) characters")


class SubmittedAnswer(BaseModel):
    """What every account of a submission starts with: which attempt, and its verdict."""

    submission_id: str
    exercise_id: str
    exercise_version: int
    correct: bool
    attempt: int = Field(description="Which attempt at this exercise version it was")


class SubmissionOut(SubmittedAnswer):
    attempts_left: int
    solved: bool
    candidate_status: Status
    replayed: bool = Field(description="True when this is the stored first verdict, replayed")


class SubmissionRecord(SubmittedAnswer):
    submitted_at: str = Field(description="When hiring stored it (RFC 3339, UTC)")


class SubmissionHistory(BaseModel):
    candidate_id: str
    items: list[SubmissionRecord] = Field(description="Oldest first; never the answers")


class ExerciseHeading(BaseModel):
    """What heads every account of an exercise in hiring's replica."""

    exercise_id: str
    title: str
    subject: str = Field(description=SUBJECT)
    difficulty: int = Field(description=DIFFICULTY)
    author_id: str


class ExerciseSummary(ExerciseHeading):
    version: int
    check_mode: Literal["exact", "normalized"]
    updated_at: str
    completions: int = Field(description="Completions of the current version")
    rating: int
    rating_version: int
    needs_complication: bool


class ExercisePage(BaseModel):
    items: list[ExerciseSummary]
    total: int
    limit: int
    offset: int


class VersionStatsOut(BaseModel):
    version: int
    completions: int
    attempted_candidates: int
    failed_first_attempts: int
    rating: int
    needs_complication: bool


class ExerciseStats(ExerciseHeading):
    current_version: int
    rating_version: int
    versions: list[VersionStatsOut] = Field(
        description="Every version hiring has seen, oldest first"
    )


class Completion(BaseModel):
    exercise_id: str
    candidate_id: str
    exercise_version: int = Field(description="The version of the exercise the candidate solved")
    leaked: bool = Field(
        description="Whether that version was solved more than ten times (needs complication)"
    )


class ManagerTotals(BaseModel):
    manager_id: str
    bonus_cents: int
    fine_cents: int
    bonus_count: int
    fine_count: int


class IssuedTotals(BaseModel):
    items: list[ManagerTotals]


class PushResult(BaseModel):
    applied: bool = Field(
        description="False when the event was already applied or its version is not newer"
    )
