"""An exercise's rating, as bonus keeps the newest one it has received."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rating:
    exercise_id: str
    exercise_version: int
    rating: int
    rating_version: int
    attempted_candidates: int
    failed_first_attempts: int
    changed_at: str


def newer_rating_wins(stored_version: int | None, incoming_version: int) -> bool:
    """Ratings reach bonus in order per exercise, yet a replay must never move one backwards.

    An equal version is the same rating again: nothing to do.
    """
    return stored_version is None or incoming_version > stored_version
