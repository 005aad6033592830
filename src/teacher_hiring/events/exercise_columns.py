"""An exercise as exercises' exercise events carry it (ExerciseCreated, ExerciseUpdated v1), kept
by every table that holds a version of one: exercises' own and its history, and hiring's replica."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from teacher_hiring.events.exercises import DEFAULT_DIFFICULTY, DEFAULT_SUBJECT

ColumnType = sa.types.TypeEngine[Any] | type[sa.types.TypeEngine[Any]]


def content_columns(*, answers: ColumnType, check_mode: ColumnType) -> list[sa.Column[Any]]:
    """What the candidate is shown and how an answer is checked. Each table keeps its own types
    for the accepted answers (exercises: JSON; hiring's replica: JSON text) and the check mode."""
    return [
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("accepted_answers", answers, nullable=False),
        sa.Column("check_mode", check_mode, nullable=False),
    ]


def classification_columns() -> list[sa.Column[Any]]:
    """US-160: the exercise's subject and difficulty, with the defaults of the v0 upcaster."""
    return [
        sa.Column("subject", sa.String(50), nullable=False, server_default=DEFAULT_SUBJECT),
        sa.Column("difficulty", sa.Integer, nullable=False, server_default=str(DEFAULT_DIFFICULTY)),
    ]
