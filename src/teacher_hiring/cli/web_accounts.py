"""The web pages' accounts database, as the commands that write it straight open it.

`operator create` and `erase candidate` change sign-in accounts without the web process: on
the database named (or WEB_DATABASE_URL, by default var/web.db, as `teacher-hiring run` uses
it), its tables made if new.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from teacher_hiring.web.accounts.store import Accounts


@contextmanager
def web_accounts(database_url: str | None) -> Iterator[Accounts]:
    """The accounts store on that database (default: WEB_DATABASE_URL, else var/web.db)."""
    from teacher_hiring.runtime.db import dispose, make_engine
    from teacher_hiring.web.accounts.store import Accounts
    from teacher_hiring.web.settings import WebSettings

    # Only the database is read of the web settings: writing accounts needs no signing secret.
    default = WebSettings.model_fields["database_url"].get_default(call_default_factory=True)
    url = database_url or os.environ.get("WEB_DATABASE_URL") or str(default)
    engine = make_engine(url)
    try:
        accounts = Accounts(engine)
        accounts.create_tables()
        yield accounts
    finally:
        dispose(engine)
