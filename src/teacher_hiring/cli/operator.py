"""`teacher-hiring operator create`: the first operator's sign-in account for the web pages.

Operators create managers on the pages; the first operator has no one to create them, so this
command writes the account straight into the web process's accounts database
(WEB_DATABASE_URL, by default var/web.db, as `teacher-hiring run` uses it).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from teacher_hiring.cli.web_accounts import web_accounts
from teacher_hiring.runtime.tokens import Role

app = typer.Typer(
    help="Operators' sign-in accounts for the web pages.",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)


@app.command("create")
def create(
    email: Annotated[str, typer.Option(help="The operator's email: what they sign in with")],
    name: Annotated[
        str | None, typer.Option(help="Shown on the pages (default: the email's name part)")
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from the first line of standard input"
        ),
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(help="The web pages' accounts database (default: WEB_DATABASE_URL)"),
    ] = None,
) -> None:
    """Create an operator who signs in to the web pages with EMAIL and a password.

    The password is asked twice (hidden), or read from standard input with --password-stdin.
    """
    from teacher_hiring.web.accounts import passwords
    from teacher_hiring.web.accounts.store import EmailTaken, normalized_email

    email = normalized_email(email)
    if "@" not in email or len(email) > 320:
        err.print("email: an email address, such as ops@school.example", style="red")
        raise typer.Exit(2)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = passwords.problem(password)
    if problem:
        err.print(f"password: {problem}", style="red")
        raise typer.Exit(2)
    with web_accounts(database_url) as accounts:
        try:
            accounts.create(
                email=email,
                role=Role.operator,
                subject_id=email,
                name=(name or email.split("@")[0]).strip() or email,
                password=password,
            )
        except EmailTaken as exc:
            err.print(f"email: {email} already has an account", style="red")
            raise typer.Exit(1) from exc
    console.print(f"operator {email} created: sign in at the web pages with this email")
