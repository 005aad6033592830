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

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection

from teacher_hiring.bonus.adapters import views
from teacher_hiring.bonus.adapters.producers_client import (
    IssuedMoney,
    ProducerFailed,
    ProducersClient,
)
from teacher_hiring.bonus.adapters.repository import BonusRepository
from teacher_hiring.bonus.domain.errors import BonusError
from teacher_hiring.bonus.domain.model import EventSource
from teacher_hiring.bonus.domain.reconciliation import (
    Difference,
    Money,
    Reconciliation,
    Window,
    expected,
    reconcile,
)
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.runtime import pages

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


def reconciliation(
    query: ReconcileQuery,
    uow: UnitOfWork[BonusRepository],
    producers: ProducersClient,
    settle_s: float,
) -> dict[str, Any]:
    """Every difference between the money issued in the window and the ledger, and the sums
    of each manager on both sides."""
    result, sources, requested = _reconcile(query, uow, producers, settle_s)
    return _report(result, sources, requested, query.manager_id)


def repair(
    query: ReconcileQuery,
    uow: UnitOfWork[BonusRepository],
    producers: ProducersClient,
    settle_s: float,
) -> dict[str, Any]:
    """Reconcile, then have each producer re-send what is missing under its original event id.

    Safe to repeat, and safe when the money was only late: bonus's inbox and the ledger's
    business keys absorb every copy that is not needed.
    """
    result, sources, requested = _reconcile(query, uow, producers, settle_s)
    wanted: dict[str, list[str]] = {}
    for difference in result.differences:
        if difference.repairable and difference.issued is not None:
            wanted.setdefault(difference.issued.producer, []).append(difference.issued.event_id)
    resent = [
        {"producer": producer, **outcome}
        for producer, event_ids in wanted.items()
        for outcome in producers.resend(producer, event_ids)
    ]
    counts = {"restaged": 0, "pending": 0, "unknown": 0}
    for outcome in resent:
        counts[outcome["outcome"]] = counts.get(outcome["outcome"], 0) + 1
    return {
        "report": _report(result, sources, requested, query.manager_id),
        "resent": resent,
        "counts": counts,
    }


def _reconcile(
    query: ReconcileQuery,
    uow: UnitOfWork[BonusRepository],
    producers: ProducersClient,
    settle_s: float,
) -> tuple[Reconciliation, list[IssuedMoney], Window]:
    requested = window_of(query, settle_s)
    with uow:
        booked = _ledger(uow.conn, requested, query.manager_id)
        sources = [
            producers.issued(
                p, since=requested.since, until=requested.until, manager_id=query.manager_id
            )
            for p in producers.producers
        ]
        issued = [_money(source.producer, item) for source in sources for item in source.items]
        booked += _elsewhere(uow.conn, issued, booked)
    kept_since = max((source.kept_since for source in sources), default=requested.since)
    window = Window(max(requested.since, kept_since), requested.until)
    return reconcile(issued, booked, window), sources, requested


def _ledger(conn: Connection, window: Window, manager_id: str | None) -> list[Money]:
    """The window's entries, every page of them."""
    found: list[Money] = []
    after: tuple[str, int] | None = None
    while True:
        page = views.ledger_page(
            conn,
            since=window.since,
            until=window.until,
            manager_id=manager_id,
            after=after,
            limit=LEDGER_PAGE,
        )
        found += [_booked(entry) for entry in page]
        if len(page) < LEDGER_PAGE:
            return found
        after = (page[-1]["occurred_at"], page[-1]["id"])


def _elsewhere(conn: Connection, issued: list[Money], booked: list[Money]) -> list[Money]:
    """Entries outside what was read (another moment, another manager) that share an event id
    or a business key with money issued that the read did not match."""
    ids = {m.event_id for m in booked}
    keys = {m.business_key for m in booked}
    unmatched = [m for m in issued if m.event_id not in ids and m.business_key not in keys]
    if not unmatched:
        return []
    found = views.entries_of(
        conn, [m.event_id for m in unmatched], [m.business_key for m in unmatched]
    )
    return [_booked(entry) for entry in found if entry["source"]["event_id"] not in ids]


def _booked(entry: dict[str, Any]) -> Money:
    source = entry["source"]
    return Money(
        event_id=source["event_id"],
        event_name=source["event_name"],
        producer=source["producer"],
        manager_id=entry["manager_id"],
        amount_cents=int(entry["amount_cents"]),
        business_key=entry["business_key"],
        occurred_at=entry["occurred_at"],
    )


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


def _shown(money: Money | None) -> dict[str, Any] | None:
    return None if money is None else asdict(money)


def _difference(difference: Difference) -> dict[str, Any]:
    return {
        "kind": difference.kind.value,
        "manager_id": difference.manager_id,
        "business_key": difference.business_key,
        "repairable": difference.repairable,
        "detail": difference.detail,
        "issued": _shown(difference.issued),
        "ledger": _shown(difference.booked),
    }


def _report(
    result: Reconciliation,
    sources: list[IssuedMoney],
    requested: Window,
    manager_id: str | None,
) -> dict[str, Any]:
    managers = [asdict(totals) for totals in result.managers]
    return {
        "window": {
            "since": result.window.since,
            "until": result.window.until,
            "requested_since": requested.since,
            "clamped": result.window.since != requested.since,
        },
        "manager_id": manager_id,
        "producers": [
            {"producer": s.producer, "issued": len(s.items), "kept_since": s.kept_since}
            for s in sources
        ],
        "summary": {
            "clean": result.clean,
            "differences": len(result.differences),
            "repairable": sum(1 for d in result.differences if d.repairable),
            "by_kind": result.by_kind(),
            "issued_count": sum(m["issued_count"] for m in managers),
            "issued_cents": sum(m["issued_cents"] for m in managers),
            "ledger_count": sum(m["ledger_count"] for m in managers),
            "ledger_cents": sum(m["ledger_cents"] for m in managers),
        },
        "managers": managers,
        "differences": [_difference(d) for d in result.differences],
    }
