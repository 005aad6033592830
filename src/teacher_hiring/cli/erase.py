"""`teacher-hiring erase candidate ID`: remove a candidate's personal data everywhere.

hiring erases the name, email and answers in its tables, deletes the key that sealed the name
in its events and publishes CandidateErased for exercises' replica (its operator route); then
this command deletes the candidate's sign-in account from the web pages' accounts database
(WEB_DATABASE_URL, by default var/web.db, as `teacher-hiring operator create` writes it).
docs/security.md, erasure.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import typer
from rich.console import Console

from teacher_hiring.cli import operator_client
from teacher_hiring.cli.web_accounts import web_accounts
from teacher_hiring.runtime.settings import DEFAULT_URLS
from teacher_hiring.runtime.tokens import Role

app = typer.Typer(help="Erase a person's personal data everywhere.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@app.command("candidate")
def candidate(
    candidate_id: Annotated[str, typer.Argument(help="The candidate's id")],
    hiring_url: Annotated[str, typer.Option(help="Base URL of hiring")] = DEFAULT_URLS["hiring"],
    web_database_url: Annotated[
        str | None,
        typer.Option(help="The web pages' accounts database (default: WEB_DATABASE_URL)"),
    ] = None,
) -> None:
    """Erase the candidate's name, email and answers in every service, in the events still in
    the log, and their sign-in account on the web pages. Money records stay as they are.
    Erasing again is harmless: it says when it was done."""
    path = f"/operator/candidates/{quote(candidate_id, safe='')}/erase"
    done = operator_client.call("POST", hiring_url.rstrip("/") + path)
    with web_accounts(web_database_url) as accounts:
        account = accounts.erase(Role.candidate, candidate_id)
    when = "was already erased" if done["already"] else "is erased"
    console.print(
        f"candidate {candidate_id} {when} ({done['erased_at']}): "
        f"{done['answers_erased']} answers erased now in hiring; exercises' replica follows "
        "CandidateErased; the names in the log's events no longer open; "
        + ("sign-in account deleted" if account else "no sign-in account on the web pages")
    )
