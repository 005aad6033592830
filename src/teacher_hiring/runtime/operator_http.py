"""Operator endpoints every service has: the links it produces and the mode of each, and how
many records the event log's topics have received."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from teacher_hiring.messaging.transport import Transport, TransportError
from teacher_hiring.runtime.links import Switch, SwitchableLink


class UnknownLink(LookupError):
    pass


class ModeRefused(ValueError):
    pass


ERRORS: dict[type[Exception], int] = {UnknownLink: 404, ModeRefused: 422}


class LinkState(BaseModel):
    link: str = Field(description="The link's name, as the CLI and the runbooks spell it")
    mode: str = Field(
        description="How rows not yet delivered will leave (a read link: where reads go)"
    )
    modes: list[str] = Field(description="The modes this link knows")
    event_name: str | None = Field(description="The event it carries; null for a read link")
    events: list[str] = Field(
        description="Every event whose path the mode decides (`event_name` first); none for a "
        "read link"
    )
    receiver: str = Field(description="The service at the other end")
    description: str
    switched_at: float | None = Field(
        description="When an operator last set the mode (epoch seconds); null: the settings' value"
    )


class ModeChange(BaseModel):
    mode: str = Field(min_length=1, max_length=20, examples=["event"])


router = APIRouter(prefix="/operator/links", tags=["operator"])


def _links(request: Request) -> dict[str, Switch]:
    links: list[Switch] = getattr(request.app.state, "links", [])
    return {link.name: link for link in links}


LinksDep = Annotated[dict[str, Switch], Depends(_links)]
LinkName = Annotated[str, Path(min_length=1, max_length=100)]


def _state(link: Switch) -> LinkState:
    flag = link.state()
    return LinkState(
        link=link.name,
        mode=flag.value,
        modes=list(link.modes),
        event_name=link.event_name if isinstance(link, SwitchableLink) else None,
        events=list(link.event_names) if isinstance(link, SwitchableLink) else [],
        receiver=link.receiver,
        description=link.description,
        switched_at=flag.updated_at,
    )


def _find(links: dict[str, Switch], name: str) -> Switch:
    if name not in links:
        known = ", ".join(sorted(links)) or "none"
        raise UnknownLink(f"link: {name!r} is not a link of this service (its links: {known})")
    return links[name]


@router.get("", response_model=list[LinkState])
def list_links(links: LinksDep) -> list[LinkState]:
    """The links this service produces whose form can change at run time."""
    return [_state(link) for _, link in sorted(links.items())]


@router.get("/{name}", response_model=LinkState, responses={404: {"description": "UnknownLink"}})
def get_link(name: LinkName, links: LinksDep) -> LinkState:
    return _state(_find(links, name))


@router.put(
    "/{name}",
    response_model=LinkState,
    responses={404: {"description": "UnknownLink"}, 422: {"description": "ModeRefused"}},
)
def switch_link(name: LinkName, change: ModeChange, links: LinksDep) -> LinkState:
    """Switch the link without a restart: every instance follows within half a second.

    Rows already relayed stay where they went (events in the log are still consumed); rows not
    yet relayed leave by the new mode. The receiver applies each event id once, whichever
    path brought it, so switching back and forth loses and doubles nothing.
    """
    link = _find(links, name)
    try:
        link.switch(change.mode)
    except ValueError as exc:
        raise ModeRefused(str(exc)) from exc
    return _state(link)


class TopicState(BaseModel):
    topic: str
    partitions: int = Field(description="Partitions the log reports for the topic now")
    records: int = Field(
        description="Records ever appended (the sum of the partitions' end offsets): its change "
        "between two reads over their interval is the topic's events per second"
    )


topics = APIRouter(prefix="/operator/topics", tags=["operator"])


def _topic_state(transport: Transport, topic: str) -> TopicState:
    try:
        ends = transport.end_offsets(topic)
    except TransportError:
        ends = {}
    return TopicState(topic=topic, partitions=len(ends), records=sum(ends.values()))


@topics.get("", response_model=list[TopicState])
def list_topics(request: Request) -> list[TopicState]:
    """Every topic of the schema registry, with how many records the log has received on it.

    The log is shared: any service answers for every topic. A topic not created yet counts 0.
    """
    runtime = request.app.state.runtime
    transport: Transport = runtime.transport
    return [_topic_state(transport, topic) for topic in runtime.registry.topics()]
