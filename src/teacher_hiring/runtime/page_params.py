"""The query parameters every paginated operator read takes, and their one 422."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query
from pydantic import BaseModel, Field

from teacher_hiring.foundation.pages import MAX_PAGE, InvalidQuery

Since = Annotated[
    str | None,
    Query(
        max_length=40,
        description="Start of the window, included: RFC 3339 with offset, or YYYY-MM-DD (UTC)",
    ),
]
Until = Annotated[
    str | None,
    Query(max_length=40, description="End of the window, excluded: RFC 3339 or YYYY-MM-DD"),
]
After = Annotated[
    str | None,
    Query(max_length=400, description="The `next` cursor of the previous page"),
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page")]
ManagerFilter = Annotated[
    str | None, Query(min_length=1, max_length=100, description="Only this manager's money")
]


@dataclass(frozen=True)
class PageQuery:
    """A paginated read of money: the window, the manager, the cursor and the page's size."""

    since: str | None
    until: str | None
    manager_id: str | None
    after: str | None
    limit: int


def _page_query(
    since: Since = None,
    until: Until = None,
    manager_id: ManagerFilter = None,
    after: After = None,
    limit: Limit = 500,
) -> PageQuery:
    return PageQuery(since, until, manager_id, after, limit)


PageQueryDep = Annotated[PageQuery, Depends(_page_query)]


class BadParameter(BaseModel):
    detail: str | list[dict[str, Any]] = Field(
        description="What was wrong, starting with the parameter's name (or, for a value of the "
        "wrong type or range, one issue per parameter, as every validation error)"
    )


BAD_PARAMETER: dict[int | str, dict[str, Any]] = {
    422: {"model": BadParameter, "description": "A parameter that cannot be used, named"}
}


def unprocessable(exc: InvalidQuery) -> HTTPException:
    """The 422 a route answers for a parameter it cannot use (the message names it)."""
    return HTTPException(status_code=422, detail=str(exc))


@contextmanager
def answering_422() -> Iterator[None]:
    """A parameter that cannot be used is a 422 that names it."""
    try:
        yield
    except InvalidQuery as exc:
        raise unprocessable(exc) from exc
