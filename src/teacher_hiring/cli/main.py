"""The `teacher-hiring` command: every command and command group, put together in one app.

Commands are listed in `--help` in the order they are added here, the groups after them.
"""

from __future__ import annotations

import typer

from teacher_hiring.cli import (
    catalogue,
    chaos,
    dead_letters,
    erase,
    event_versions,
    kafka_access,
    links,
    operator,
    payments,
    proxy,
    reconcile,
    registry,
    run,
    serve,
    simulate,
    token,
)

app = typer.Typer(
    help="The teacher-hiring platform: exercises, hiring and bonus services over versioned events.",
    no_args_is_help=True,
)
app.add_typer(registry.app, name="registry")
app.add_typer(links.app, name="links")
app.add_typer(event_versions.app, name="event-versions")
app.add_typer(dead_letters.app, name="dead-letters")
app.add_typer(operator.app, name="operator")
app.add_typer(erase.app, name="erase")
app.add_typer(payments.app, name="payments")
app.command("reconcile")(reconcile.reconcile)
app.add_typer(token.app, name="token")
app.command("chaos")(chaos.chaos)
app.command("run")(run.run)
app.command("serve")(serve.serve)
app.command("proxy")(proxy.proxy)
app.command("simulate")(simulate.simulate)
app.command("catalogue")(catalogue.catalogue)
app.command("kafka-access")(kafka_access.kafka_access_command)
