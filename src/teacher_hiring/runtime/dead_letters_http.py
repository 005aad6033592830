"""Operator endpoints every service has: the dead letters of its consumer groups, and, as the
producer of its topics, sending its own events again for a replay its consumers ask for.

One router in one place, so that the operator role's dependency can be added to all of them
at once. The tools' refusals become 4xx answers here (`detail` names the field, `error` the
refusal), without the app having to know them.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from teacher_hiring.messaging.dead_letter_rules import (
    BadRequest,
    DeadLetter,
    DeadLetterError,
    DeadLetterNotFound,
    Decision,
    Order,
    PurgeRefused,
    ReplayFailed,
    ReplayRefused,
    ReplayUnavailable,
    Status,
    Tracked,
    UnknownGroup,
    UnknownTopic,
)
from teacher_hiring.messaging.dead_letters import DeadLetters
from teacher_hiring.messaging.restage import restage_on_topic
from teacher_hiring.runtime import auth
from teacher_hiring.runtime.bad_requests import AnsweringRoute
from teacher_hiring.runtime.tokens import Role

STATUS: dict[type[DeadLetterError], int] = {
    UnknownTopic: 404,
    DeadLetterNotFound: 404,
    UnknownGroup: 422,
    BadRequest: 422,
    PurgeRefused: 409,
    ReplayRefused: 409,
    ReplayFailed: 502,
    ReplayUnavailable: 503,
}
RAW_TEXT_LIMIT = 64 * 1024


class _Refusals(AnsweringRoute):
    """Turns the dead-letter tools' refusals into JSON answers with their status."""

    def answer(self, exc: Exception) -> Response | None:
        if not isinstance(exc, DeadLetterError):
            return None
        status = next(s for kind, s in STATUS.items() if isinstance(exc, kind))
        body = {"detail": str(exc), "error": type(exc).__name__, **exc.extra}
        return JSONResponse(body, status_code=status)


router = APIRouter(prefix="/operator/dead-letters", tags=["operator"], route_class=_Refusals)

_REFUSALS: dict[int | str, dict[str, Any]] = {
    404: {"description": "UnknownTopic or DeadLetterNotFound (`detail` names the field)"},
    422: {"description": "UnknownGroup or BadRequest: a malformed id, an offset past the end"},
}
_REPLAY_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_REFUSALS,
    409: {
        "description": "ReplayRefused: the topic's producer no longer holds some events "
        "(`refused` names them; the others were replayed)"
    },
    502: {"description": "ReplayFailed: the topic's producer answered an error"},
    503: {
        "description": "ReplayUnavailable: the event log refused the write, or the topic's "
        "producer did not answer; nothing was marked"
    },
}


def _dead_letters(request: Request) -> DeadLetters:
    dead_letters: DeadLetters = request.app.state.runtime.dead_letters
    return dead_letters


DeadLettersDep = Annotated[DeadLetters, Depends(_dead_letters)]
TopicName = Annotated[str, Path(min_length=1, max_length=200, description="The original topic")]


class DeadLetterSummary(BaseModel):
    id: str = Field(description="<partition>:<offset> in <topic>.dlq", examples=["0:12"])
    topic: str = Field(description="The topic the record was read from")
    consumer: str = Field(description="The consumer group that dead-lettered it")
    reason: str = Field(description="invalid (unparseable, against its schema) or failed")
    error: str = Field(description="Why, as the consumer saw it (the last attempt's error)")
    attempts: int | None = Field(description="Handler attempts made (0 for an invalid record)")
    dead_lettered_at: float = Field(description="Epoch seconds")
    event_name: str | None
    event_id: str | None
    status: Status = Field(description="pending, replayed, or applied (its group's inbox has it)")
    replayed_at: float | None
    replay_of: str | None = Field(description="The dead letter a replay of which failed again")


class DeadLetterDetail(DeadLetterSummary):
    key: str
    service: str
    original_partition: int | None
    original_offset: int | None
    headers: dict[str, str]
    event: dict[str, Any] | None = Field(description="The original event, if it is an envelope")
    raw: str | None = Field(description="The original bytes as text, if they are no envelope")
    parse_error: str | None


class TopicCounts(BaseModel):
    dead_letters: int = Field(description="This service's dead letters on the topic")
    pending: int
    other_services: int = Field(description="Other services' dead letters in the same topic")


class DeadLetterPage(BaseModel):
    items: list[DeadLetterSummary]
    total: int = Field(description="Dead letters matching the filters")
    limit: int
    skip: int
    topics: dict[str, TopicCounts]


class ReplayRequest(BaseModel):
    topic: str | None = Field(
        None, min_length=1, max_length=200, description="Only this topic (all when omitted)"
    )
    ids: list[str] | None = Field(
        None,
        max_length=1000,
        description="Only these dead letters of `topic` (<partition>:<offset>)",
    )
    group: str | None = Field(None, min_length=1, max_length=100, description="Only this group's")
    dry_run: bool = Field(True, description="Say what would happen and publish nothing")


class ReplayDecision(BaseModel):
    id: str
    topic: str
    consumer: str
    event_name: str | None
    event_id: str | None
    outcome: str = Field(
        description="would apply, replayed, already replayed, already applied, still invalid, "
        "not handled"
    )
    detail: str


class ReplayAnswer(BaseModel):
    dry_run: bool
    published: int
    decisions: list[ReplayDecision]


class PurgeRequest(BaseModel):
    topic: str = Field(min_length=1, max_length=200, description="The original topic")
    up_to: str | None = Field(
        None,
        max_length=40,
        description="Purge this dead letter's partition through it (<partition>:<offset>, "
        "included); omitted: every dead letter of the topic",
        examples=["0:12"],
    )
    force: bool = Field(False, description="Also drop dead letters neither replayed nor applied")


class PurgeAnswer(BaseModel):
    topic: str
    purged: int
    forced: bool
    starts: dict[int, int] = Field(description="Per partition of <topic>.dlq, its first offset now")


class _Which(TypedDict):
    """What names a dead letter in every answer about it."""

    id: str
    topic: str
    consumer: str
    event_name: str | None
    event_id: str | None


def _which(letter: DeadLetter) -> _Which:
    return _Which(
        id=letter.id,
        topic=letter.topic,
        consumer=letter.consumer,
        event_name=letter.event_name,
        event_id=letter.event_id,
    )


def _summary(tracked: Tracked) -> DeadLetterSummary:
    letter = tracked.letter
    return DeadLetterSummary(
        **_which(letter),
        reason=letter.reason,
        error=letter.error,
        attempts=letter.attempts,
        dead_lettered_at=letter.dead_lettered_at,
        status=tracked.status,
        replayed_at=tracked.replayed_at,
        replay_of=letter.headers.get("replayed_from"),
    )


def _detail(tracked: Tracked) -> DeadLetterDetail:
    letter = tracked.letter
    raw = None
    if letter.envelope is None:
        raw = letter.value[:RAW_TEXT_LIMIT].decode("utf-8", errors="replace")
    return DeadLetterDetail(
        **dict(_summary(tracked)),
        key=letter.key,
        service=letter.service,
        original_partition=letter.original_partition,
        original_offset=letter.original_offset,
        headers=dict(letter.headers),
        event=letter.envelope.as_dict() if letter.envelope else None,
        raw=raw,
        parse_error=letter.parse_error,
    )


def _decision(decision: Decision) -> ReplayDecision:
    return ReplayDecision(
        **_which(decision.tracked.letter),
        outcome=decision.outcome.value,
        detail=decision.detail,
    )


@router.get("", response_model=DeadLetterPage, responses=_REFUSALS)
def list_dead_letters(
    dead_letters: DeadLettersDep,
    topic: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only this topic")
    ] = None,
    group: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Only this consumer group's")
    ] = None,
    status: Annotated[Status | None, Query(description="Only those in this state")] = None,
    order: Annotated[Order, Query(description="newest first, or by topic and offset")] = (
        Order.NEWEST
    ),
    limit: Annotated[int, Query(ge=1, le=500, description="Dead letters per page")] = 50,
    skip: Annotated[int, Query(ge=0, description="Dead letters to skip")] = 0,
) -> DeadLetterPage:
    """The dead letters of this service's consumer groups, on every topic they read or one.

    Read from `<topic>.dlq` at each call; `topics` counts them per topic before the filters.
    """
    page = dead_letters.listing(
        topic=topic, group=group, status=status, order=order, limit=limit, skip=skip
    )
    return DeadLetterPage(
        items=[_summary(t) for t in page.items],
        total=page.total,
        limit=limit,
        skip=skip,
        topics={name: TopicCounts(**counts) for name, counts in page.by_topic.items()},
    )


@router.get("/{topic}/{dead_letter_id}", response_model=DeadLetterDetail, responses=_REFUSALS)
def show_dead_letter(
    topic: TopicName,
    dead_letter_id: Annotated[
        str, Path(min_length=3, max_length=40, description="<partition>:<offset>")
    ],
    dead_letters: DeadLettersDep,
) -> DeadLetterDetail:
    """One dead letter: why, by which group, after how many attempts, when, and the original
    event (parsed if it is an envelope, else its bytes as text)."""
    return _detail(dead_letters.get(topic, dead_letter_id))


@router.post("/replay", response_model=ReplayAnswer, responses=_REPLAY_REFUSALS)
def replay_dead_letters(body: ReplayRequest, dead_letters: DeadLettersDep) -> ReplayAnswer:
    """A dry run by default: for each dead letter chosen, what a replay would do with it.

    With `dry_run: false`, publishes to the original topic, under the original event id, the
    dead letters the dry run would apply, and marks them replayed: a second replay publishes
    them no more. Every group's inbox drops an event it applied already. On a broker where only
    a topic's producer may write it, the producer sends its own copy again (`POST
    /operator/replays` on it); what it no longer holds is refused (409).
    """
    report = dead_letters.replay(
        topic=body.topic, ids=body.ids, group=body.group, dry_run=body.dry_run
    )
    return ReplayAnswer(
        dry_run=report.dry_run,
        published=report.published,
        decisions=[_decision(d) for d in report.decisions],
    )


@router.post(
    "/purge",
    response_model=PurgeAnswer,
    responses={**_REFUSALS, 409: {"description": "PurgeRefused: unhandled dead letters"}},
)
def purge_dead_letters(body: PurgeRequest, dead_letters: DeadLettersDep) -> PurgeAnswer:
    """Drop the topic's dead letters through `up_to`, or all of them.

    Refused (409, listing them) while one of them is neither replayed nor applied, or belongs
    to another service reading the same topic, unless `force` is true.
    """
    report = dead_letters.purge(body.topic, up_to=body.up_to, force=body.force)
    return PurgeAnswer(
        topic=report.topic, purged=report.purged, forced=report.forced, starts=report.starts
    )


replays = APIRouter(prefix="/operator/replays", tags=["operator"], route_class=_Refusals)


class ProducerReplayRequest(BaseModel):
    topic: str = Field(min_length=1, max_length=200, description="A topic this service produces")
    event_ids: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(
        min_length=1, max_length=1000, description="The events to send again"
    )


class ProducerReplayItem(BaseModel):
    event_id: str
    outcome: str = Field(
        description="restaged (staged again in the outbox; the relay sends it), pending (not "
        "sent yet: the relay will) or unknown (not held any more, or not of this topic)"
    )


class ProducerReplayAnswer(BaseModel):
    topic: str
    items: list[ProducerReplayItem]


@replays.post(
    "",
    response_model=ProducerReplayAnswer,
    responses={404: {"description": "UnknownTopic: not a topic this service produces"}},
)
def replay_own_events(
    body: ProducerReplayRequest, request: Request, claims: auth.ClaimsDep
) -> ProducerReplayAnswer:
    """Send again, under their own ids, events this service produced on `topic`: for a replay of
    dead letters that a consumer of the topic may not write back itself (the secured broker).

    The events go out as this service keeps them (its outbox, or the money it issued), never as
    the caller holds them. A service may ask only for a topic it consumes; an operator for any.
    """
    runtime = request.app.state.runtime
    registry = runtime.registry
    if registry.topic_owner(body.topic) != runtime.name:
        own = sorted(t for t in registry.topics() if registry.topic_owner(t) == runtime.name)
        raise UnknownTopic(
            f"topic: {body.topic!r} is not a topic {runtime.name} produces "
            f"(its topics: {', '.join(own) or 'none'})",
            field="topic",
        )
    if claims.role is Role.service:
        readers = sorted(
            {c for spec in registry.events_on_topic(body.topic) for c in spec.consumers}
        )
        if claims.subject not in readers:
            raise auth.forbidden(
                f"caller: {body.topic} is replayed for its consumers only "
                f"({', '.join(readers)}); the token names the service {claims.subject!r}"
            )
    with runtime.engine.begin() as conn:
        outcomes = restage_on_topic(
            conn, runtime.outbox, body.topic, body.event_ids, runtime.kept_events
        )
    return ProducerReplayAnswer(
        topic=body.topic,
        items=[ProducerReplayItem(event_id=e, outcome=o.value) for e, o in outcomes.items()],
    )
