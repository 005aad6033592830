"""The web pages' accounts database, as the commands that write it straight open it.

`operator create` and `erase candidate` change sign-in accounts without the web process: on
the database named (or WEB_DATABASE_URL, by default var/web.db, as `teacher-hiring run` uses
it), its tables made if new.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from rich.console import Console

if TYPE_CHECKING:
    from teacher_hiring.web.accounts.store import Accounts

err = Console(stderr=True)


@contextmanager
def web_accounts(database_url: str | None) -> Iterator[Accounts]:
    """The accounts store on that database; exit code 2 naming the setting when it is wrong."""
    from teacher_hiring.runtime.db import dispose, make_engine
    from teacher_hiring.web.accounts.store import Accounts
    from teacher_hiring.web.settings import WebSettings

    try:
        url = database_url or WebSettings().database_url
    except ValidationError as exc:
        err.print(f"web settings: {exc}", style="red", markup=False)
        raise typer.Exit(2) from exc
    engine = make_engine(url)
    try:
        accounts = Accounts(engine)
        accounts.create_tables()
        yield accounts
    finally:
        dispose(engine)
