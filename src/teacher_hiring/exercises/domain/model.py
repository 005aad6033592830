"""Managers, exercises, complication assignments, payments and the candidate replica.

Every rule is a pure function or method on a frozen dataclass, so it is tested with no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Final, Literal

from teacher_hiring.exercises.domain.errors import (
    EditNotAllowed,
    InvalidValue,
    NoManagerToAssign,
    NothingChanged,
    VersionConflict,
)

CheckMode = Literal["exact", "normalized"]
ExerciseStatus = Literal["active", "needs_complication"]
AssignmentStatus = Literal["open", "closed"]
AssigneePolicy = Literal["author", "least_loaded"]
CandidateStatus = Literal["candidate", "teacher"]

NAME_MAX = 200
TEAM_MAX = 100
TITLE_MAX = 200
SUBJECT_MAX = 50
SUBJECT_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"  # a lowercase slug: "mathematics", "russian-language"
DEFAULT_SUBJECT = "general"
DIFFICULTY_MIN, DIFFICULTY_MAX, DEFAULT_DIFFICULTY = 1, 5, 3
STATEMENT_MAX = 20_000
ANSWERS_MAX = 20
ANSWER_MAX = 10_000
EMAIL_MAX = 254
_LABEL = r"(?![A-Za-z0-9-]{2}--)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"  # no "xx--" (IDNA)
# A plain address (dot-atom local part, dotted host name): a strict subset of what the
# events' "format": "email" accepts, so an address taken here is never refused at the outbox.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    rf"@{_LABEL}(\.{_LABEL})+$"
)
CONTENT_FIELDS = (
    "title",
    "statement",
    "accepted_answers",
    "check_mode",
    "subject",
    "difficulty",
)
MANAGER_FIELDS = ("first_name", "last_name", "team", "email")


class Keep(Enum):
    """A field left as it is, where None is a value of its own (no team)."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


@dataclass(frozen=True)
class Manager:
    """A manager (US-170: the name is first and last name, and a manager may have a team)."""

    id: str
    first_name: str
    last_name: str
    email: str
    team: str | None = None

    def __post_init__(self) -> None:
        _check_length("first_name", self.first_name, NAME_MAX)
        if not self.first_name.strip():
            raise InvalidValue("first_name", "must not be blank")
        if len(self.last_name) > NAME_MAX:
            raise InvalidValue("last_name", f"must be at most {NAME_MAX} characters")
        if len(self.name) > NAME_MAX:
            raise InvalidValue(
                "last_name", f"first and last name together must be at most {NAME_MAX} characters"
            )
        _check_length("team", self.team, TEAM_MAX)
        if not is_email(self.email):
            raise InvalidValue("email", "is not an email address")

    @property
    def name(self) -> str:
        return full_name(self.first_name, self.last_name)

    def changed(
        self,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        team: str | Keep | None = KEEP,
        email: str | None = None,
    ) -> Manager:
        """The manager with the given fields replaced; asking to change nothing is refused."""
        if first_name is None and last_name is None and team is KEEP and email is None:
            raise NothingChanged(MANAGER_FIELDS)
        return replace(
            self,
            first_name=self.first_name if first_name is None else first_name,
            last_name=self.last_name if last_name is None else last_name,
            team=self.team if isinstance(team, Keep) else team,
            email=self.email if email is None else email,
        )


@dataclass(frozen=True)
class Exercise:
    id: str
    author_id: str
    title: str
    statement: str
    accepted_answers: tuple[str, ...]
    check_mode: CheckMode
    version: int = 1
    status: ExerciseStatus = "active"
    subject: str = DEFAULT_SUBJECT
    difficulty: int = DEFAULT_DIFFICULTY

    def __post_init__(self) -> None:
        _check_length("title", self.title, TITLE_MAX)
        if not is_subject(self.subject):
            raise InvalidValue(
                "subject", f"must be a lowercase slug of 1 to {SUBJECT_MAX} characters"
            )
        if not DIFFICULTY_MIN <= self.difficulty <= DIFFICULTY_MAX:
            raise InvalidValue("difficulty", f"must be {DIFFICULTY_MIN} to {DIFFICULTY_MAX}")
        _check_length("statement", self.statement, STATEMENT_MAX)
        if not 1 <= len(self.accepted_answers) <= ANSWERS_MAX:
            raise InvalidValue("accepted_answers", f"give 1 to {ANSWERS_MAX} answers")
        for answer in self.accepted_answers:
            _check_length("accepted_answers", answer, ANSWER_MAX)
        if self.version < 1:
            raise InvalidValue("version", "starts at 1")

    def revised(
        self,
        *,
        title: str | None = None,
        statement: str | None = None,
        accepted_answers: tuple[str, ...] | None = None,
        check_mode: CheckMode | None = None,
        subject: str | None = None,
        difficulty: int | None = None,
        expected_version: int | None = None,
    ) -> Exercise:
        """The next version: given fields replaced, version + 1; the status is decided apart."""
        if expected_version is not None and expected_version != self.version:
            raise VersionConflict(self.id, expected_version, self.version)
        given: dict[str, Any] = {
            "title": title,
            "statement": statement,
            "accepted_answers": accepted_answers,
            "check_mode": check_mode,
            "subject": subject,
            "difficulty": difficulty,
        }
        changes = {name: value for name, value in given.items() if value is not None}
        if all(value == getattr(self, name) for name, value in changes.items()):
            raise NothingChanged(tuple(changes) or CONTENT_FIELDS)
        return replace(self, version=self.version + 1, **changes)

    def with_status(self, status: ExerciseStatus) -> Exercise:
        return replace(self, status=status)


def status_after_save(open_assignments_left: int) -> ExerciseStatus:
    """An exercise needs complication while any of its assignments is still open."""
    return "needs_complication" if open_assignments_left else "active"


def version_to_complicate(exercise: Exercise, leaked_version: int) -> int | None:
    """The version a leak report opens an assignment for: the leaked one, while it is current.

    None once a later save replaced it: the leaked text is gone, hiring no longer serves it,
    and there is nothing left to complicate. Decided by versions alone, never by comparing
    times: hiring's clock and this service's need not agree. A version never saved here is
    refused (hiring learns versions from exercises, so it cannot know a newer one).
    """
    if leaked_version > exercise.version:
        raise InvalidValue(
            "exercise_version",
            f"exercise {exercise.id} has no version {leaked_version} (its current version "
            f"is {exercise.version})",
        )
    return leaked_version if leaked_version == exercise.version else None


def choose_assignee(
    policy: AssigneePolicy,
    author_id: str,
    open_counts: Mapping[str, int],
) -> str:
    """The author when the policy says so and the author is a manager; otherwise the manager
    with the fewest open assignments, ties broken by id so every instance picks the same one.

    `open_counts` has every manager, with 0 for those with no open assignment.
    """
    if policy == "author" and author_id in open_counts:
        return author_id
    if not open_counts:
        raise NoManagerToAssign()
    return min(open_counts, key=lambda manager_id: (open_counts[manager_id], manager_id))


@dataclass(frozen=True)
class ComplicationAssignment:
    id: str
    exercise_id: str
    exercise_version: int
    assignee_id: str
    status: AssignmentStatus = "open"
    closed_with_version: int | None = None

    def closed_by_save_of(self, editor_id: str) -> bool:
        """Only the assignee's own save completes the work; anyone else's leaves it open."""
        return self.status == "open" and self.assignee_id == editor_id


def may_edit(
    exercise: Exercise, editor_id: str, open_assignments: Iterable[ComplicationAssignment]
) -> bool:
    """The author edits their exercise; so does a manager holding one of its open complication
    assignments (their save is the work they are paid for). Nobody else: a manager editing
    another's exercise would land its fines on the author, or collect another's payment."""
    if editor_id == exercise.author_id:
        return True
    return any(assignment.closed_by_save_of(editor_id) for assignment in open_assignments)


def ensure_may_edit(
    exercise: Exercise, editor_id: str, open_assignments: Iterable[ComplicationAssignment]
) -> None:
    """EditNotAllowed unless `may_edit`."""
    if not may_edit(exercise, editor_id, open_assignments):
        raise EditNotAllowed(exercise.id, editor_id)


def may_see_answers(author_id: str, manager_id: str, *, holds_open_assignment: bool) -> bool:
    """A manager sees the accepted answers of the exercises they may edit only: their own, and
    those whose open complication assignment they hold (they rewrite the answers)."""
    return holds_open_assignment or manager_id == author_id


@dataclass(frozen=True)
class Payment:
    """What the assignee is paid for one closed assignment (the business key)."""

    id: str
    assignment_id: str
    manager_id: str
    amount_cents: int
    exercise_id: str
    exercise_version: int


@dataclass(frozen=True)
class ComplicationRules:
    """The configurable constants of complication work (SPEC §3)."""

    payment_cents: int = 3000
    assignee_policy: AssigneePolicy = "author"


@dataclass(frozen=True)
class CandidateSnapshot:
    """The state of one candidate as hiring last told it; `updated_at` orders the states."""

    candidate_id: str
    name: str
    status: CandidateStatus
    exercises_to_solve: tuple[str, ...]
    exercises_solved: tuple[str, ...]
    created_at: float | None
    updated_at: float


ERASED_NAME: Final = "(erased)"
"""An erased candidate's name in the replica (as hiring writes it in its own tables)."""


def erased_candidate(
    stored: CandidateSnapshot | None, candidate_id: str, erased_at: float
) -> CandidateSnapshot | None:
    """The row to write for a CandidateErased, or None: already erased.

    The name goes and stays gone: the merges below keep it erased whatever state arrives later
    (a replayed dead letter of an older event, say). A candidate the replica never saw is kept
    as erased, so that their CandidateCreated, if it comes after all, writes no name.
    """
    if stored is None:
        return CandidateSnapshot(candidate_id, ERASED_NAME, "candidate", (), (), None, erased_at)
    if stored.name == ERASED_NAME:
        return None
    return replace(stored, name=ERASED_NAME)


def merge_candidate_created(
    stored: CandidateSnapshot | None, incoming: CandidateSnapshot
) -> CandidateSnapshot | None:
    """The row to write for a CandidateCreated, or None to write nothing.

    A Created arriving after any later state never overwrites it; it only fills in the creation
    time that an earlier-arrived Updated could not know.
    """
    if stored is None:
        return incoming
    if stored.created_at is None:
        return replace(stored, created_at=incoming.created_at)
    return None


def merge_candidate_updated(
    stored: CandidateSnapshot | None, incoming: CandidateSnapshot
) -> CandidateSnapshot | None:
    """The row to write for a CandidateUpdated, or None: an older state never replaces a newer."""
    if stored is None:
        return incoming
    if incoming.updated_at < stored.updated_at:
        return None
    erased = stored.name == ERASED_NAME
    return replace(
        incoming, created_at=stored.created_at, name=stored.name if erased else incoming.name
    )


def full_name(first_name: str, last_name: str) -> str:
    """The name shown to people: "First Last", or the first name alone."""
    return f"{first_name} {last_name}" if last_name else first_name


def is_subject(text: str) -> bool:
    return len(text) <= SUBJECT_MAX and re.fullmatch(SUBJECT_PATTERN, text) is not None


def is_email(text: str) -> bool:
    return len(text) <= EMAIL_MAX and re.fullmatch(EMAIL_PATTERN, text) is not None


def _check_length(field: str, value: str | None, maximum: int) -> None:
    if value is not None and not 1 <= len(value) <= maximum:
        raise InvalidValue(field, f"must be 1 to {maximum} characters")
