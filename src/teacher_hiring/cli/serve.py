"""`teacher-hiring serve`: one service in this process."""

from __future__ import annotations

import gc
import importlib
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

console = Console()


class ServiceName(StrEnum):
    exercises = "exercises"
    hiring = "hiring"
    bonus = "bonus"
    web = "web"


def serve(
    service: Annotated[ServiceName, typer.Argument(help="Which service to run (web: the pages)")],
    host: Annotated[str | None, typer.Option(help="Listen address (default from settings)")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default from settings)")] = None,
) -> None:
    """Run one service (its HTTP API, outbox relay and event consumers) or the web pages
    (`web`), in this process."""
    import uvicorn

    from teacher_hiring.runtime.parent_death import follow_parent

    follow_parent()  # started by `run`: do not outlive it
    bootstrap_module = importlib.import_module(f"teacher_hiring.{service.value}.bootstrap")
    settings_module = importlib.import_module(f"teacher_hiring.{service.value}.settings")
    settings_class = next(
        value
        for name, value in vars(settings_module).items()
        if name.endswith("Settings") and name != "ServiceSettings"
    )
    try:
        settings = settings_class()
    except Exception as exc:  # pydantic's ValidationError names the field
        console.print(f"[red]{service.value}: invalid settings:[/red] {exc}")
        raise typer.Exit(2) from exc
    if service is ServiceName.web:
        from teacher_hiring.runtime.logging import configure_logging

        configure_logging("web")  # the services configure theirs in bootstrap()
    application = bootstrap_module.bootstrap(settings)
    _tune_garbage_collector()
    uvicorn.run(
        application,
        host=host or settings.host,
        port=port or settings.port,
        log_level="warning",
        # uvicorn's own lines (an exception in a request) through the scrubbing handler that
        # configure_logging installed, not a handler of its own: docs/security.md.
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )


def _tune_garbage_collector() -> None:
    """Fewer, cheaper collections: what exists after start-up lives as long as the process.

    Freezing it keeps full collections from walking it again and again, and a larger first
    generation makes collections rarer; both show as fewer latency spikes on requests.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
