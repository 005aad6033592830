"""The shapes of reconciliation's answers (they become the OpenAPI document)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from teacher_hiring.bonus.domain.reconciliation import Gap
from teacher_hiring.bonus.entrypoints.schemas import Entry


class ProducerError(BaseModel):
    detail: str = Field(description="Which producer, at which address, and what happened")
    error: str = Field(description="ProducerUnavailable (503) or ProducerFailed (502)")
    producer: str = Field(description="hiring or exercises")


class LedgerItem(Entry):
    manager_id: str


class LedgerPage(BaseModel):
    items: list[LedgerItem] = Field(description="Oldest first by occurred_at, then by id")
    next: str | None = Field(description="Cursor of the next page (`after`); null on the last")


class Money(BaseModel):
    event_id: str
    event_name: str
    producer: str
    manager_id: str
    amount_cents: int = Field(description="Signed as the ledger holds it: a fine is negative")
    business_key: str
    occurred_at: str


class Difference(BaseModel):
    kind: Gap = Field(
        description="missing: issued, not in the ledger; not_issued: in the ledger, issued by "
        "nobody; other_event_id: the business key is in the ledger under an event id nobody "
        "issued; mismatch: the same money with another amount or manager"
    )
    manager_id: str
    business_key: str
    repairable: bool = Field(description="A repair re-sends it under its original event id")
    detail: str
    issued: Money | None = Field(description="As the producer issued it")
    ledger: Money | None = Field(
        # read from the domain's Difference, whose ledger side is `booked`
        validation_alias="booked",
        description="As the ledger holds it",
    )


class WindowOut(BaseModel):
    since: str = Field(description="Start compared, included: the one asked for, or later")
    until: str = Field(description="End compared, excluded")
    requested_since: str
    clamped: bool = Field(
        description="A producer no longer keeps money issued before `since` (money retention)"
    )


class ProducerOut(BaseModel):
    producer: str
    issued: int = Field(description="Money events it reported in the window")
    kept_since: str


class ManagerTotals(BaseModel):
    manager_id: str
    issued_cents: int = Field(description="Issued, once per business key, signed")
    issued_count: int
    ledger_cents: int = Field(description="The ledger's entries of the window, signed")
    ledger_count: int
    differences: int


class Summary(BaseModel):
    clean: bool = Field(description="No difference at all")
    differences: int
    repairable: int
    by_kind: dict[str, int]
    issued_count: int
    issued_cents: int
    ledger_count: int
    ledger_cents: int


class Report(BaseModel):
    window: WindowOut
    manager_id: str | None
    producers: list[ProducerOut]
    summary: Summary
    managers: list[ManagerTotals]
    differences: list[Difference]


class Resent(BaseModel):
    producer: str
    event_id: str
    outcome: str = Field(
        description="restaged: staged again under its own id; pending: not sent yet, the "
        "producer's relay will; unknown: the producer no longer has it"
    )


class RepairResult(BaseModel):
    report: Report = Field(description="The differences found before the repair")
    resent: list[Resent]
    counts: dict[str, int]
