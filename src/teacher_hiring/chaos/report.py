"""The figures and the checks of a chaos run, as tables."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from teacher_hiring.chaos.run import ChaosReport


def _by_prefix(counts: Counter[str], prefix: str) -> tuple[int, str]:
    found = {k.removeprefix(prefix): n for k, n in counts.items() if k.startswith(prefix)}
    detail = ", ".join(f"{name} {n}" for name, n in sorted(found.items()))
    return sum(found.values()), detail


def figures(report: ChaosReport) -> dict[str, int]:
    """The run's figures by name, as the result table of docs/chaos.md shows them."""
    counts = report.injected.counts
    verdict = report.verdict
    return {
        "processes killed": _by_prefix(counts, "killed:")[0],
        "duplicates injected": _by_prefix(counts, "duplicate:")[0],
        "poison injected": _by_prefix(counts, "poison:")[0],
        "database outages": _by_prefix(counts, "outage:")[0],
        "submissions": len({a.submission_id for a in report.accepted}),
        "events": report.events,
        "money dead-lettered": 0 if verdict is None else verdict.money_dead_lettered,
        "lost": -1 if verdict is None else verdict.lost,
        "doubled": -1 if verdict is None else verdict.doubled,
    }


def print_report(report: ChaosReport, console: Console) -> None:
    counts = report.injected.counts
    faults = Table(
        title=f"chaos on {report.deployment}: {report.seconds:.0f} s of faults, seed "
        f"{report.config.seed}, settled in {report.settle_seconds:.0f} s"
    )
    faults.add_column("fault")
    faults.add_column("count", justify="right")
    faults.add_column("of which")
    for label, prefix in (
        ("processes killed (SIGKILL, restarted)", "killed:"),
        ("records delivered again", "duplicate:"),
        ("poison records", "poison:"),
        ("database outages", "outage:"),
        ("faults skipped", "skipped:"),
    ):
        total, detail = _by_prefix(counts, prefix)
        faults.add_row(label, str(total), detail)
    console.print(faults)

    users = Table(title="users at work meanwhile")
    users.add_column("what")
    users.add_column("count", justify="right")
    for key in sorted(report.users):
        users.add_row(key.replace("_", " "), str(report.users[key]))
    users.add_row("requests sent again (dead process, 5xx)", str(sum(report.retries.values())))
    users.add_row("users who gave up (errors)", str(len(report.user_errors)))
    users.add_row("events on the topics", str(report.events))
    console.print(users)
    for error in report.user_errors[:3]:
        console.print(f"  [yellow]{escape(error)}[/yellow]")

    if report.verdict is not None:
        checks = Table(title="checks", show_lines=True)
        checks.add_column("check")
        checks.add_column("looked at", justify="right")
        checks.add_column("result")
        checks.add_column("detail", overflow="fold")
        for result in report.verdict.results:
            mark = "[green]ok[/green]" if result.ok else "[red]VIOLATED[/red]"
            detail = "\n".join([result.note, *result.violations]).strip()
            checks.add_row(result.name, str(result.checked), mark, escape(detail))
        console.print(checks)
    for label, what in sorted(report.on_the_way.items()):
        console.print(f"still on its way in {label}: {escape(what)}")
    for problem in report.problems:
        console.print(f"[red]the run could not finish: {escape(problem)}[/red]")
    shown = figures(report)
    line = ", ".join(f"{name} = {value}" for name, value in shown.items())
    colour = "green" if report.ok else "red"
    console.print(f"[{colour}]{line}[/{colour}]")
