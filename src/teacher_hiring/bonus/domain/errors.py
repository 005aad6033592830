"""Named errors of the bonus service; the HTTP layer maps them to status codes in one place."""

from __future__ import annotations

from typing import Any


class BonusError(Exception):
    """Base of every bonus error; `extra` fields are added to the JSON error body."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra: dict[str, Any] = extra


class AccountNotFound(BonusError):
    """No money event and no ManagerCreated has named this manager yet."""


class RatingNotFound(BonusError):
    """No TaskRatingChanged has been received for this exercise."""


class InvalidPeriod(BonusError):
    """A statement period that is malformed or empty; `field` names the culprit."""


class InvalidAmount(BonusError):
    """An amount that is not a whole number of cents, or has the wrong sign for its kind."""


class InvalidTimestamp(BonusError):
    """A timestamp that is not RFC 3339 with a UTC offset."""


class BusinessKeyConflict(BonusError):
    """The same business key arrived with a different amount or manager.

    Not a duplicate but a real inconsistency between producer and ledger: the event must be
    retried and dead-lettered so that a human looks at it, never silently dropped.
    """


class ProducerUnavailable(BonusError):
    """A producer did not answer in time, or could not be reached."""


class ProducerFailed(BonusError):
    """A producer answered with an error, or with something this code cannot read."""
