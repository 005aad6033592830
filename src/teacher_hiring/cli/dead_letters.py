"""`teacher-hiring dead-letters`: list, show, replay and purge what the consumers dead-lettered.

Each service answers for its own consumer groups under `/operator/dead-letters`; the commands
ask every service (or the one named) and put the answers together.
"""

from __future__ import annotations

import functools
import inspect
import json
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from teacher_hiring.cli import operator_client
from teacher_hiring.cli.operator_client import call, err
from teacher_hiring.runtime.settings import DEFAULT_URLS

app = typer.Typer(
    help="Dead letters of the services' consumers: list, show, replay (dry run first), purge.",
    no_args_is_help=True,
)
console = Console(width=160, emoji=False)

TIMEOUT_S = 30.0  # a replay or purge reads the whole dead-letter topic first
PATH = "/operator/dead-letters"


class ServiceName(StrEnum):
    exercises = "exercises"
    hiring = "hiring"
    bonus = "bonus"


ServiceOption = Annotated[
    ServiceName | None, typer.Option("--service", help="Ask only this service (default: all)")
]
ExercisesUrl = Annotated[str, typer.Option(help="Base URL of exercises")]
HiringUrl = Annotated[str, typer.Option(help="Base URL of hiring")]
BonusUrl = Annotated[str, typer.Option(help="Base URL of bonus")]


Services = dict[str, str]
"""The dead-letter routes a command asks, by service name."""


def _asking_services(command: Callable[..., None]) -> Callable[..., None]:
    """The command with the options that choose the services it asks (--service and each
    service's base URL, after its own options), called with their routes as `services`."""

    def asking(
        *args: Any,
        service: ServiceOption = None,
        exercises_url: ExercisesUrl = DEFAULT_URLS["exercises"],
        hiring_url: HiringUrl = DEFAULT_URLS["hiring"],
        bonus_url: BonusUrl = DEFAULT_URLS["bonus"],
        **kwargs: Any,
    ) -> None:
        urls = {"exercises": exercises_url, "hiring": hiring_url, "bonus": bonus_url}
        chosen = {name: url.rstrip("/") + PATH for name, url in urls.items()}
        services = {service.value: chosen[service.value]} if service is not None else chosen
        command(*args, services=services, **kwargs)

    own = inspect.signature(command, eval_str=True).parameters.values()
    options = inspect.signature(asking, eval_str=True).parameters.values()
    functools.update_wrapper(asking, command)
    asking.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [p for p in own if p.name != "services"] + [p for p in options if p.kind is p.KEYWORD_ONLY],
        return_annotation=None,
    )
    return asking


def _ask(method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    """The status and JSON of an answer that may be a refusal; a transport error exits 1."""
    try:
        response = httpx.request(
            method, url, timeout=TIMEOUT_S, auth=operator_client.auth(), **kwargs
        )
    except httpx.HTTPError as exc:
        err.print(f"[red]{escape(url)}: {escape(str(exc))}[/red]", emoji=False)
        raise typer.Exit(1) from exc
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {"detail": response.text}


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]{escape(message)}[/red]", emoji=False)
    return typer.Exit(code)


def _consumers(services: dict[str, str], topic: str) -> dict[str, str]:
    """The services that read `topic`; exits 1 if none does."""
    readers: dict[str, str] = {}
    refusals: list[str] = []
    for name, url in services.items():
        status, body = _ask("GET", url, params={"topic": topic, "limit": 1})
        if status == 200:
            readers[name] = url
        elif body.get("error") == "UnknownTopic":
            refusals.append(f"{name}: {body['detail']}")
        else:
            raise _fail(f"{name}: HTTP {status}: {body.get('detail', body)}")
    if not readers:
        raise _fail("topic: no service asked reads it; " + "; ".join(refusals))
    return readers


def _when(at: float | None) -> str:
    return "" if at is None else time.strftime("%F %T", time.localtime(at))


def _short(text: str, width: int = 60) -> str:
    line = text.strip().splitlines()[-1] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


@app.command("list")
@_asking_services
def list_dead_letters(
    services: Services,
    topic: Annotated[str | None, typer.Option(help="Only this topic")] = None,
    group: Annotated[str | None, typer.Option(help="Only this consumer group's")] = None,
    status: Annotated[
        str | None, typer.Option(help="Only pending, replayed or applied ones")
    ] = None,
    order: Annotated[str, typer.Option(help="newest (first) or offset")] = "newest",
    limit: Annotated[int, typer.Option(min=1, max=500, help="Per service")] = 50,
    skip: Annotated[int, typer.Option(min=0, help="Per service")] = 0,
) -> None:
    """The dead letters of every service's consumer groups, with their state."""
    if topic is not None:
        services = _consumers(services, topic)
    params: dict[str, Any] = {"order": order, "limit": limit, "skip": skip}
    params.update(
        {k: v for k, v in {"topic": topic, "group": group, "status": status}.items() if v}
    )
    table = Table("service", "topic", "id", "group", "reason", "status", "tries", "when", "event")
    table.add_column("error", overflow="fold")
    counts = Table("service", "topic", "dead letters", "pending", "other services'")
    shown = 0
    for name, url in services.items():
        page = call("GET", url, params=params, timeout_s=TIMEOUT_S)
        for item in page["items"]:
            cells = (
                name,
                item["topic"],
                item["id"],
                item["consumer"],
                item["reason"],
                item["status"],
                "" if item["attempts"] is None else str(item["attempts"]),
                _when(item["dead_lettered_at"]),
                item["event_name"] or "(not an event)",
                _short(item["error"]),
            )
            table.add_row(*map(escape, cells))
        shown += len(page["items"])
        for name_of_topic, count in page["topics"].items():
            if count["dead_letters"] or count["other_services"]:
                counts.add_row(
                    name,
                    name_of_topic,
                    str(count["dead_letters"]),
                    str(count["pending"]),
                    str(count["other_services"]),
                )
    if shown:
        console.print(table)
    else:
        console.print("no dead letters match")
    if counts.row_count:
        console.print(counts)


@app.command("show")
@_asking_services
def show(
    services: Services,
    topic: Annotated[str, typer.Argument(help="The original topic, e.g. money")],
    dead_letter_id: Annotated[str, typer.Argument(help="<partition>:<offset>, as listed")],
) -> None:
    """One dead letter: why, by whom, when, and the original event (or its raw bytes)."""
    name, found = _find(services, topic, dead_letter_id)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column(overflow="fold")
    for label, value in (
        ("dead letter", f"{topic}.dlq {found['id']} ({name})"),
        (
            "status",
            found["status"]
            + (f" at {_when(found['replayed_at'])}" if found["replayed_at"] else ""),
        ),
        ("consumer group", found["consumer"]),
        ("reason", found["reason"]),
        ("attempts", "" if found["attempts"] is None else str(found["attempts"])),
        ("dead-lettered", _when(found["dead_lettered_at"])),
        ("read from", f"{topic}[{found['original_partition']}] at {found['original_offset']}"),
        ("key", found["key"]),
        ("replay of", found["replay_of"] or ""),
        ("error", found["error"]),
    ):
        facts.add_row(label, escape(value))
    console.print(facts)
    if found["event"] is not None:
        console.print(Syntax(json.dumps(found["event"], indent=2), "json", word_wrap=True))
    else:
        why = escape(str(found["parse_error"]))
        console.print(f"[bold]not an event[/bold] ({why}); its bytes as text:")
        console.print(found["raw"], markup=False, highlight=False)


def _find(services: dict[str, str], topic: str, dead_letter_id: str) -> tuple[str, Any]:
    """The service whose group dead-lettered it, and the dead letter; exits 1 if none has."""
    refusals: list[str] = []
    for name, url in services.items():
        status, body = _ask("GET", f"{url}/{topic}/{dead_letter_id}")
        if status == 200:
            return name, body
        if status == 422:
            raise _fail(f"{name}: {body.get('detail', body)}")
        refusals.append(f"{name}: {body.get('detail', body)}")
    raise _fail("; ".join(refusals))


@app.command("replay")
@_asking_services
def replay(
    services: Services,
    topic: Annotated[str | None, typer.Argument(help="Only this topic (default: all)")] = None,
    ids: Annotated[
        list[str] | None, typer.Argument(help="Only these dead letters of TOPIC")
    ] = None,
    group: Annotated[str | None, typer.Option(help="Only this consumer group's")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run/--apply", help="Only say what would happen (default)")
    ] = True,
) -> None:
    """Say what a replay would do (default); --apply publishes what it would apply.

    Each dead letter goes back to its topic under its original event id, so a group that
    applied it already drops it.
    """
    requests: dict[str, dict[str, Any]] = {}
    if ids:
        assert topic is not None  # typer fills TOPIC before IDS
        for dead_letter_id in ids:
            owner, _ = _find(services, topic, dead_letter_id)
            requests.setdefault(owner, {"topic": topic, "ids": []})["ids"].append(dead_letter_id)
    else:
        readers = _consumers(services, topic) if topic is not None else services
        requests = {name: {"topic": topic} for name in readers}
    table = Table("service", "topic", "id", "group", "event", "outcome")
    table.add_column("detail", overflow="fold")
    published = would = 0
    for name, body in requests.items():
        answer = call(
            "POST",
            f"{services[name]}/replay",
            json={**body, "group": group, "dry_run": dry_run},
            timeout_s=TIMEOUT_S,
        )
        published += answer["published"]
        for decision in answer["decisions"]:
            would += decision["outcome"] == "would apply"
            style = {"would apply": "green", "replayed": "bold green", "still invalid": "red"}
            colour = style.get(decision["outcome"], "yellow")
            table.add_row(
                *map(escape, (name, decision["topic"], decision["id"], decision["consumer"])),
                escape(decision["event_name"] or "(not an event)"),
                f"[{colour}]{escape(decision['outcome'])}[/{colour}]",
                escape(decision["detail"]),
            )
    console.print(table if table.row_count else "no dead letters to replay")
    if dry_run:
        console.print(f"dry run: {would} would be published; --apply publishes them")
    else:
        console.print(f"published {published}")


@app.command("purge")
@_asking_services
def purge(
    services: Services,
    topic: Annotated[str, typer.Argument(help="The original topic, e.g. money")],
    up_to: Annotated[
        str | None,
        typer.Option(help="<partition>:<offset>: that partition through it (default: all)"),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Also drop dead letters neither replayed nor applied")
    ] = False,
) -> None:
    """Drop a topic's dead letters: through --up-to in its partition, or all.

    Refused while one of them is neither replayed nor applied, unless --force.
    """
    readers = _consumers(services, topic)
    if len(readers) > 1:
        names = " and ".join(readers)
        raise _fail(
            f"service: {topic} is read by {names}; name the one that purges with --service "
            "(each vouches only for its own dead letters)",
            2,
        )
    (name, url), *_ = readers.items()
    status, answer = _ask(
        "POST", f"{url}/purge", json={"topic": topic, "up_to": up_to, "force": force}
    )
    if status != 200:
        raise _fail(f"{name}: HTTP {status}: {answer.get('detail', answer)}")
    starts = ", ".join(
        f"{p}: {o}" for p, o in sorted(answer["starts"].items(), key=lambda i: int(i[0]))
    )
    forced = " (forced)" if answer["forced"] else ""
    purged = f"{name}: purged {answer['purged']} dead letters of {topic}{forced}"
    console.print(f"{purged}; {topic}.dlq starts at {starts}", markup=False)
