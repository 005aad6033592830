"""`teacher-hiring kafka-access`: the catalogue's topics and each service's ACLs on a secured
Kafka broker (messaging/kafka_access.py), made as the admin. scripts/kafka.sh runs it at every
start; run it yourself for a platform whose topics have a prefix of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from teacher_hiring.messaging import kafka_access
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.transport import TransportError

out = Console()
err = Console(stderr=True)


def kafka_access_command(
    admin_config: Annotated[
        Path,
        typer.Option(
            help="The admin's client properties (scripts/kafka.sh: <data>/clients/admin.properties)"
        ),
    ],
    bootstrap: Annotated[str, typer.Option(help="The broker, host:port")] = "127.0.0.1:9092",
    prefix: Annotated[str, typer.Option(help="The platform's topic prefix")] = "",
    partitions: Annotated[int, typer.Option(min=1, help="Partitions of a new topic")] = 6,
    quiet: Annotated[bool, typer.Option(help="Print nothing when all went well")] = False,
) -> None:
    """Create the topics of schemas/events.yaml and allow each service its own: write the
    topics whose events it produces, read those it consumes. Safe to run again."""
    try:
        config = kafka_access.read_client_config(admin_config)
        rules = kafka_access.grant(
            bootstrap, config, SchemaRegistry.load(), prefix=prefix, partitions=partitions
        )
    except (kafka_access.ClientConfigError, TransportError) as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(1) from exc
    if not quiet:
        for line in kafka_access.describe(rules):
            out.print(line, markup=False)
