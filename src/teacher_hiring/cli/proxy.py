"""`teacher-hiring proxy`: one address in front of several instances of a service."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

console = Console()


def proxy(
    route: Annotated[
        list[str],
        typer.Option(
            help="LISTEN=UPSTREAM[,UPSTREAM...], e.g. "
            "127.0.0.1:8702=127.0.0.1:8712,127.0.0.1:8722; once per address to serve"
        ),
    ],
    wait: Annotated[
        float, typer.Option(min=0, help="Seconds a connection waits while no upstream accepts")
    ] = 5.0,
) -> None:
    """Give each service one address in front of its instances (TCP, round-robin, an instance
    that refuses connections skipped); `run --distributed` starts one."""
    from teacher_hiring.runtime import proxy as tcp_proxy
    from teacher_hiring.runtime.logging import configure_logging
    from teacher_hiring.runtime.parent_death import follow_parent

    try:
        routes = [tcp_proxy.Route.parse(text) for text in route]
    except ValueError as exc:
        console.print(f"[red]--route {exc}[/red]")
        raise typer.Exit(2) from exc
    configure_logging("proxy")
    follow_parent()
    tcp_proxy.run(routes, wait_s=wait)
