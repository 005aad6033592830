"""The HTTP status of every error bonus answers with: the one place it is written.

Routes and handlers let a domain error travel up; runtime.http answers it with this status.
"""

from __future__ import annotations

from teacher_hiring.bonus.domain.errors import (
    AccountNotFound,
    BusinessKeyConflict,
    InvalidAmount,
    InvalidPeriod,
    InvalidTimestamp,
    ProducerFailed,
    ProducerUnavailable,
    RatingNotFound,
)
from teacher_hiring.bonus.service_layer.money_calls import MoneyEventRefused, NotTheProducer
from teacher_hiring.runtime.http import ErrorMap

ERRORS: ErrorMap = {
    AccountNotFound: 404,
    RatingNotFound: 404,
    InvalidPeriod: 422,
    ProducerFailed: 502,
    ProducerUnavailable: 503,
    # the synchronous money call (entrypoints.calls)
    MoneyEventRefused: 422,
    NotTheProducer: 403,
    InvalidAmount: 422,
    InvalidTimestamp: 422,
    BusinessKeyConflict: 409,
}
