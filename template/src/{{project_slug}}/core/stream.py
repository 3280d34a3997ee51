"""Server-Sent Events: the event log as a live stream, resumable from the last event id.

A client subscribes to topics it may read. On (re)connect it sends `Last-Event-ID` (browsers
do this by themselves) and first receives every published event after that id from the
database, then live events from the hub. A subscriber too slow to keep up is disconnected
and resumes the same way, so no event is lost or repeated.
"""

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import EventSourceResponse, ServerSentEvent

from .auth.models import Role, User
from .deps import SessionDep, current_user
from .errors import Forbidden
from .outbox import OutboxEvent
from .realtime import Hub, Subscription

router = APIRouter(prefix="/api/v1", tags=["events"])
TopicRule = Callable[[AsyncSession, User, str], Awaitable[bool]]
_rules: dict[str, TopicRule] = {}
REPLAY_BATCH = 500


def topic_rule(prefix: str) -> Callable[[TopicRule], TopicRule]:
    """Register who may read topics starting with `prefix` (the longest prefix decides)."""

    def register(rule: TopicRule) -> TopicRule:
        _rules[prefix] = rule
        return rule

    return register


@topic_rule("audit")
async def _admins_read_audit(_session: AsyncSession, user: User, topic: str) -> bool:
    # Rules match by prefix: only the `audit` topic itself, not `audit-anything`.
    return user.role is Role.ADMIN and topic == "audit"


@topic_rule("user:")
async def _own_user_topic(_session: AsyncSession, user: User, topic: str) -> bool:
    return topic == f"user:{user.id}"


async def may_read(session: AsyncSession, user: User, topic: str) -> bool:
    """Apply the rule of the longest registered prefix; unknown topics are refused."""
    matches = [prefix for prefix in _rules if topic.startswith(prefix)]
    return bool(matches) and await _rules[max(matches, key=len)](session, user, topic)


def _as_sse(message: dict[str, object]) -> ServerSentEvent:
    return ServerSentEvent(
        data=json.dumps(message), event=str(message["type"]), id=str(message["id"])
    )


async def _replay(request: Request, topics: list[str], after: int) -> AsyncIterator[OutboxEvent]:
    while True:
        async with request.app.state.db.sessions() as session:
            rows = list(
                await session.scalars(
                    select(OutboxEvent)
                    .where(
                        OutboxEvent.topic.in_(topics),
                        OutboxEvent.id > after,
                        OutboxEvent.published_at.is_not(None),
                    )
                    .order_by(OutboxEvent.id)
                    .limit(REPLAY_BATCH)
                )
            )
        for row in rows:
            yield row
            after = row.id
        if len(rows) < REPLAY_BATCH:
            return


async def _events(
    request: Request, subscription: Subscription, topics: list[str], after: int
) -> AsyncIterator[ServerSentEvent]:
    last = after
    async for row in _replay(request, topics, after):
        last = row.id
        yield _as_sse(row.message())
    while not subscription.overflowed:
        message = await subscription.get()
        if int(message["id"]) > last:
            last = int(message["id"])
            yield _as_sse(message)


@router.get("/events", response_class=EventSourceResponse)
async def stream(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: SessionDep,
    topic: Annotated[list[str], Query(min_length=1, max_length=20)],
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
    after: Annotated[int, Query(ge=0, description="Resume after this event id")] = 0,
) -> EventSourceResponse:
    """Stream events of the given topics as `text/event-stream`.

    Resume with the `Last-Event-ID` header (sent automatically by browsers) or `after`.
    """
    for name in topic:
        if not await may_read(session, user, name):
            raise Forbidden(f"You may not read topic {name!r}")
    await session.close()  # the stream may stay open for hours: give the connection back
    hub: Hub = request.app.state.hub
    start = max(last_event_id or 0, after)

    async def events() -> AsyncIterator[ServerSentEvent]:
        # Subscribe before replaying, so nothing published in between is missed.
        async with hub.subscribe(topic) as subscription:
            async for item in _events(request, subscription, topic, start):
                yield item

    return EventSourceResponse(events(), ping=15, headers={"X-Stream-Id": str(uuid.uuid4())})
