"""`teacher-hiring reconcile`: the money hiring and exercises issued against the bonus ledger.

It asks bonus (`/operator/reconciliation`), which collects from the producers; with
`--repair`, bonus has the producers re-send what is missing under the original event ids, and
this command waits for the ledger to take it before it reports what remains.

Exit codes: 0 no difference (left), 1 differences remain, 2 bad input, 3 a service did not
answer (bonus, or a producer bonus asked).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from teacher_hiring.bonus.entrypoints.reconciliation_schemas import Money, RepairResult, Report
from teacher_hiring.cli import operator_client
from teacher_hiring.runtime.settings import DEFAULT_URLS

console = Console()
err = Console(stderr=True)

CLEAN, DIFFERENCES, BAD_INPUT, UNAVAILABLE = 0, 1, 2, 3
REPORT_TIMEOUT_S = 120.0


class _Failed(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _call(method: str, url: str, params: dict[str, str]) -> Any:
    try:
        response = httpx.request(
            method, url, params=params, timeout=REPORT_TIMEOUT_S, auth=operator_client.auth()
        )
    except httpx.HTTPError as exc:
        raise _Failed(f"{url}: bonus did not answer: {exc}", UNAVAILABLE) from exc
    if response.status_code < 300:
        return response.json()
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    code = BAD_INPUT if 400 <= response.status_code < 500 else UNAVAILABLE
    raise _Failed(f"{method} {url}: HTTP {response.status_code}: {detail}", code)


def _money(cents: int | None) -> str:
    if cents is None:
        return "-"
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _side(money: Money | None) -> str:
    """One side of a difference: the event and the amount, or a dash when it is absent."""
    if money is None:
        return "-"
    return f"{_money(money.amount_cents)} {money.event_name} {money.event_id}"


def _print_differences(report: Report) -> None:
    differences = report.differences
    if not differences:
        return
    table = Table(title=f"{len(differences)} difference(s)", show_lines=True)
    table.add_column("kind", style="bold")
    for name in ("manager", "business key", "issued", "in the ledger"):
        table.add_column(name, overflow="fold")
    for difference in differences:
        table.add_row(
            difference.kind.value,
            difference.manager_id,
            difference.business_key,
            _side(difference.issued),
            _side(difference.ledger),
        )
    console.print(table)


def _print_summary(report: Report) -> None:
    window, summary = report.window, report.summary
    managers = [m for m in report.managers if m.differences]
    if managers:
        table = Table("manager", "issued", "ledger", "gap", "differences", title="per manager")
        table.columns[0].overflow = "fold"
        for m in managers:
            gap = m.issued_cents - m.ledger_cents
            table.add_row(
                m.manager_id,
                f"{_money(m.issued_cents)} ({m.issued_count})",
                f"{_money(m.ledger_cents)} ({m.ledger_count})",
                _money(gap),
                str(m.differences),
            )
        console.print(table)
    clamped = " (moved later: older money is no longer kept)" if window.clamped else ""
    console.print(f"window: {window.since} .. {window.until}{clamped}")
    sources = ", ".join(f"{p.producer} {p.issued}" for p in report.producers)
    console.print(
        f"issued: {summary.issued_count} events, {_money(summary.issued_cents)} "
        f"({sources}); ledger: {summary.ledger_count} entries, "
        f"{_money(summary.ledger_cents)}; managers: {len(report.managers)}"
    )
    kinds = ", ".join(f"{k} {n}" for k, n in summary.by_kind.items() if n)
    verdict = "[green]no difference[/green]" if summary.clean else f"[red]{kinds}[/red]"
    console.print(f"differences: {summary.differences} {verdict}")


def _report(url: str, params: dict[str, str]) -> Report:
    """Bonus's answers are read with the models that document them (by field name: a
    difference's `ledger` is read from the domain's `booked` when bonus builds it)."""
    return Report.model_validate(
        _call("GET", f"{url}/operator/reconciliation", params), by_name=True
    )


def _repair(url: str, params: dict[str, str], wait_s: float) -> Report:
    answer = _call("POST", f"{url}/operator/reconciliation/repair", params)
    result = RepairResult.model_validate(answer, by_name=True)
    before = result.report
    console.print("[bold]before the repair[/bold]")
    _print_differences(before)
    _print_summary(before)
    counts = result.counts
    per_producer: dict[str, int] = {}
    for item in result.resent:
        if item.outcome == "restaged":
            per_producer[item.producer] = per_producer.get(item.producer, 0) + 1
    by = ", ".join(f"{p} {n}" for p, n in per_producer.items()) or "none"
    console.print(
        f"re-sent under their original event ids: {counts.get('restaged', 0)} ({by}); "
        f"still on their way: {counts.get('pending', 0)}; "
        f"no longer kept: {counts.get('unknown', 0)}"
    )
    # The same window again, until the ledger has taken what was re-sent (or time is up).
    again = {**params, "since": before.window.requested_since}
    again["until"] = before.window.until
    deadline = time.monotonic() + wait_s
    report = before
    while True:
        report = _report(url, again)
        if report.summary.repairable == 0 or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    console.print("[bold]after the repair[/bold]")
    return report


def reconcile(
    since: Annotated[
        str | None,
        typer.Option(help="Start (RFC 3339 or YYYY-MM-DD, UTC); default: 7 days before --until"),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="End, excluded; default: a minute ago (BONUS_RECONCILIATION_SETTLE_S)"),
    ] = None,
    manager: Annotated[str | None, typer.Option(help="Only this manager's money")] = None,
    repair: Annotated[
        bool, typer.Option("--repair", help="Re-send what is missing under its original event id")
    ] = False,
    wait: Annotated[
        float, typer.Option(min=0, help="With --repair: seconds to wait for the ledger to take it")
    ] = 30.0,
    bonus_url: Annotated[str, typer.Option(help="Base URL of bonus")] = (DEFAULT_URLS["bonus"]),
) -> None:
    """Compare, per manager, the money hiring and exercises issued with the bonus ledger; print
    every difference. Exit 0: none; 1: differences remain; 2: bad input; 3: a service is down."""
    params = {k: v for k, v in {"since": since, "until": until, "manager_id": manager}.items() if v}
    url = bonus_url.rstrip("/")
    try:
        report = _repair(url, params, wait) if repair else _report(url, params)
    except _Failed as failure:
        err.print(f"[red]{failure}[/red]")
        raise typer.Exit(failure.code) from None
    _print_differences(report)
    _print_summary(report)
    raise typer.Exit(CLEAN if report.summary.clean else DIFFERENCES)
