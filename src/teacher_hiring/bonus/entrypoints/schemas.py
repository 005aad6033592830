"""The shapes of the HTTP answers (they become the OpenAPI document)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from teacher_hiring.bonus.domain.model import EntryKind


class Error(BaseModel):
    detail: str = Field(description="What went wrong, starting with the field concerned")
    error: str = Field(description="The error's name, e.g. AccountNotFound")


class ManagerOut(BaseModel):
    first_name: str
    last_name: str
    name: str = Field(description="For display: first and last name")
    team: str | None
    email: str


class AccountHeading(BaseModel):
    """What heads every answer about one account."""

    manager_id: str
    manager: ManagerOut | None = Field(
        description="From the replica fed by ManagerCreated/Updated; null when not known yet"
    )


class Account(AccountHeading):
    opened_at: str = Field(description="When bonus opened the account (RFC 3339, UTC)")
    balance_cents: int = Field(description="Sum of every entry: credits minus debits; may be < 0")
    credits_cents: int = Field(description="Bonuses plus payments")
    debits_cents: int = Field(description="Fines, as a positive number")
    entries: int = Field(description="How many ledger entries the account has")
    bonus_cents: int
    fine_cents: int = Field(description="Fines, as a positive number")
    payment_cents: int
    bonus_count: int
    fine_count: int
    payment_count: int


class Source(BaseModel):
    """The event an entry came from."""

    event_id: str
    event_name: str
    producer: str
    trace_id: str


class Entry(BaseModel):
    id: int = Field(description="Ledger position; higher was recorded later")
    kind: EntryKind
    amount_cents: int = Field(description="Signed: a fine is negative")
    business_key: str = Field(
        description="bonus:<submission_id>, fine:<submission_id> or payment:<assignment_id>; "
        "unique in the ledger"
    )
    occurred_at: str = Field(description="When the business fact happened (RFC 3339, UTC)")
    recorded_at: str = Field(description="When bonus wrote the entry (RFC 3339, UTC)")
    source: Source
    details: dict[str, Any] = Field(description="The rest of the money event's payload")


class EntriesPage(BaseModel):
    manager_id: str
    kind: EntryKind | None
    limit: int
    offset: int
    total: int = Field(description="Entries matching the filter, all pages together")
    items: list[Entry] = Field(description="The entries of this page, newest first")


class BalancePoint(BaseModel):
    at: str = Field(description="When the entry occurred (RFC 3339, UTC)")
    kind: EntryKind
    amount_cents: int = Field(description="The entry's amount; fines are negative")
    balance_cents: int = Field(description="The balance once this entry is counted")


class BalanceHistory(BaseModel):
    manager_id: str
    total: int = Field(description="How many entries the account has; points are the newest")
    points: list[BalancePoint] = Field(description="One per entry, oldest first")


class StatementTotals(BaseModel):
    bonus_cents: int
    bonus_count: int
    fine_cents: int = Field(description="Fines, as a positive number")
    fine_count: int
    payment_cents: int
    payment_count: int
    credits_cents: int
    debits_cents: int


class Statement(AccountHeading):
    start: date = Field(description="First day of the period (UTC, included)")
    end: date = Field(description="Day after the period (UTC, excluded)")
    opening_balance_cents: int = Field(description="Balance of every entry before start")
    entries: list[Entry] = Field(description="Entries that occurred in [start, end), oldest first")
    totals: StatementTotals
    closing_balance_cents: int = Field(
        description="opening_balance_cents + credits_cents - debits_cents"
    )


class Rating(BaseModel):
    exercise_id: str
    exercise_version: int
    rating: int = Field(ge=0, le=100)
    rating_version: int = Field(description="Only a greater one replaces this rating")
    attempted_candidates: int
    failed_first_attempts: int
    changed_at: str


class ManagerTotals(BaseModel):
    manager_id: str
    bonus_cents: int
    fine_cents: int = Field(description="Fines, as the positive amounts issued")
    payment_cents: int
    bonus_count: int
    fine_count: int
    payment_count: int
    balance_cents: int = Field(description="bonus_cents - fine_cents + payment_cents")


class OverallTotals(BaseModel):
    bonus_cents: int
    fine_cents: int
    payment_cents: int
    bonus_count: int
    fine_count: int
    payment_count: int
    balance_cents: int


class LedgerTotals(BaseModel):
    items: list[ManagerTotals] = Field(description="One row per account, by manager_id")
    overall: OverallTotals = Field(description="The same sums over the whole ledger")
