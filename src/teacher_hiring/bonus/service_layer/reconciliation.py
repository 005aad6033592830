"""Reconciling the ledger with what hiring and exercises issued, and repairing what is missing.

The ledger is read first, then the producers: everything the ledger holds was committed by its
producer before that, so a producer's answer always includes it. Money issued in between shows
as missing (it was merely on its way); so the default window ends `settle_s` ago, and a repair
of such money changes nothing anyway: bonus's inbox drops the copy by its event id.

A repair only asks a producer to stage the original envelope of what is missing again (same
event id); it never writes the ledger itself, and never deletes an entry: an entry nobody
issued is reported for a person to look at.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from teacher_hiring.bonus.domain.errors import BonusError, ProducerFailed
from teacher_hiring.bonus.domain.model import EventSource
from teacher_hiring.bonus.domain.reconciliation import (
    Money,
    Reconciliation,
    Window,
    expected,
    reconcile,
)
from teacher_hiring.bonus.service_layer.ports import IssuedMoney, Ledger, LedgerReads, Producers
from teacher_hiring.bonus.service_layer.results import (
    ComparedWindow,
    LedgerPage,
    ProducerCount,
    RepairResult,
    Report,
    Summary,
)
from teacher_hiring.foundation import pages

DEFAULT_WINDOW_S = 7 * 24 * 3600
LEDGER_PAGE = 5000


@dataclass(frozen=True, slots=True)
class ReconcileQuery:
    since: str | None = None
    until: str | None = None
    manager_id: str | None = None


def window_of(query: ReconcileQuery, settle_s: float) -> Window:
    """[since, until): until defaults to `settle_s` ago, since to seven days before until."""
    given = pages.Window.parse(query.since, query.until)
    until = given.until or pages.now_text(minus_s=settle_s)
    since = given.since or pages.shift(until, -DEFAULT_WINDOW_S)
    if until <= since:
        raise pages.InvalidQuery(f"since: {since} is not before until {until}")
    return Window(since, until)


def ledger_page(
    query: ReconcileQuery, ledger: Ledger, *, after: str | None, limit: int
) -> LedgerPage:
    """The ledger's entries whose occurred_at is in [since, until), oldest first, `limit` of
    them after the cursor `after` (the `next` of the page before)."""
    window = pages.Window.parse(query.since, query.until)
    cursor = None if after is None else pages.decode_cursor(after, int)
    with ledger.reading() as reads:
        items = reads.ledger_page(
            window,
            query.manager_id,
            after=None if cursor is None else (cursor[0], int(cursor[1])),
            limit=limit,
        )
    last = items[-1] if len(items) == limit else None
    return LedgerPage(
        items, None if last is None else pages.encode_cursor(last.occurred_at, last.id)
    )


def reconciliation(
    query: ReconcileQuery, ledger: Ledger, producers: Producers, settle_s: float
) -> Report:
    """Every difference between the money issued in the window and the ledger, and the sums
    of each manager on both sides."""
    result, sources, requested = _reconcile(query, ledger, producers, settle_s)
    return _report(result, sources, requested, query.manager_id)


def repair(
    query: ReconcileQuery, ledger: Ledger, producers: Producers, settle_s: float
) -> RepairResult:
    """Reconcile, then have each producer re-send what is missing under its original event id.

    Safe to repeat, and safe when the money was only late: bonus's inbox and the ledger's
    business keys absorb every copy that is not needed.
    """
    result, sources, requested = _reconcile(query, ledger, producers, settle_s)
    wanted: dict[str, list[str]] = {}
    for difference in result.differences:
        if difference.repairable and difference.issued is not None:
            wanted.setdefault(difference.issued.producer, []).append(difference.issued.event_id)
    resent = [
        outcome
        for producer, event_ids in wanted.items()
        for outcome in producers.resend(producer, event_ids)
    ]
    counts = Counter({"restaged": 0, "pending": 0, "unknown": 0})
    counts.update(outcome.outcome for outcome in resent)
    return RepairResult(
        report=_report(result, sources, requested, query.manager_id),
        resent=resent,
        counts=dict(counts),
    )


def _reconcile(
    query: ReconcileQuery, ledger: Ledger, producers: Producers, settle_s: float
) -> tuple[Reconciliation, list[IssuedMoney], Window]:
    requested = window_of(query, settle_s)
    with ledger.reading() as reads:
        booked = _ledger(reads, requested, query.manager_id)
        sources = [
            producers.issued(
                p, since=requested.since, until=requested.until, manager_id=query.manager_id
            )
            for p in producers.producers
        ]
        issued = [_money(source.producer, item) for source in sources for item in source.items]
        booked += _elsewhere(reads, issued, booked)
    kept_since = max((source.kept_since for source in sources), default=requested.since)
    window = Window(max(requested.since, kept_since), requested.until)
    return reconcile(issued, booked, window), sources, requested


def _ledger(reads: LedgerReads, window: Window, manager_id: str | None) -> list[Money]:
    """The window's entries, every page of them."""
    found: list[Money] = []
    after: tuple[str, int] | None = None
    while True:
        page = reads.ledger_page(
            pages.Window(window.since, window.until), manager_id, after=after, limit=LEDGER_PAGE
        )
        found += [Money.of(entry) for entry in page]
        if len(page) < LEDGER_PAGE:
            return found
        after = (page[-1].occurred_at, page[-1].id)


def _elsewhere(reads: LedgerReads, issued: list[Money], booked: list[Money]) -> list[Money]:
    """Entries outside what was read (another moment, another manager) that share an event id
    or a business key with money issued that the read did not match."""
    ids = {m.event_id for m in booked}
    keys = {m.business_key for m in booked}
    unmatched = [m for m in issued if m.event_id not in ids and m.business_key not in keys]
    if not unmatched:
        return []
    found = reads.entries_of([m.event_id for m in unmatched], [m.business_key for m in unmatched])
    return [Money.of(entry) for entry in found if entry.source.event_id not in ids]


def _money(producer: str, item: dict[str, Any]) -> Money:
    """What the ledger should hold for an issued event, by the consumer's own rule."""
    try:
        source = EventSource(
            event_id=item["event_id"],
            event_name=item["event_name"],
            producer=producer,
            trace_id=item["trace_id"],
        )
        return expected(item["event_name"], item["payload"], source)
    except (KeyError, TypeError, BonusError) as exc:
        raise ProducerFailed(
            f"{producer} reported issued money this service cannot read: {exc!r}",
            producer=producer,
        ) from None


def _report(
    result: Reconciliation,
    sources: list[IssuedMoney],
    requested: Window,
    manager_id: str | None,
) -> Report:
    managers = result.managers
    return Report(
        window=ComparedWindow(result.window.since, result.window.until, requested.since),
        manager_id=manager_id,
        producers=[ProducerCount(s.producer, len(s.items), s.kept_since) for s in sources],
        summary=Summary(
            clean=result.clean,
            differences=len(result.differences),
            repairable=sum(1 for d in result.differences if d.repairable),
            by_kind=result.by_kind(),
            issued_count=sum(m.issued_count for m in managers),
            issued_cents=sum(m.issued_cents for m in managers),
            ledger_count=sum(m.ledger_count for m in managers),
            ledger_cents=sum(m.ledger_cents for m in managers),
        ),
        managers=managers,
        differences=result.differences,
    )
