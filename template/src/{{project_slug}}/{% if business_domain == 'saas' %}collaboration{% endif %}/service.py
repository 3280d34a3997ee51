"""Room rules: who may join, read and post, and the order messages are read in.

Each operation commits once, together with the event it appends to the room's topic, so
members streaming the room see exactly the changes that were stored.
"""

import uuid
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.auth.models import User
from ..core.errors import Conflict, Forbidden, NotFound, Unprocessable
from ..core.outbox import append_event
from . import events
from .models import Message, Room, RoomMember


async def create_room(session: AsyncSession, user: User, name: str) -> Room:
    """A new room with its creator as the first member."""
    room = Room(name=name, created_by=user.id)
    session.add(room)
    await session.flush()  # the membership refers to the room's row
    session.add(RoomMember(room_id=room.id, user_id=user.id))
    append_event(
        session, events.room_topic(room.id), events.ROOM_CREATED, events.room_created(room)
    )
    await session.commit()
    return room


async def list_rooms(session: AsyncSession, user: User, limit: int) -> list[Room]:
    """The user's rooms, most recently active first (a room without messages: its creation)."""
    activity = func.coalesce(Room.last_message_at, Room.created_at)
    query = (
        select(Room)
        .join(RoomMember, RoomMember.room_id == Room.id)
        .where(RoomMember.user_id == user.id)
        .order_by(activity.desc(), Room.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def _room(session: AsyncSession, room_id: uuid.UUID) -> Room:
    room = await session.get(Room, room_id)
    if room is None:
        raise NotFound("No room with this id")
    return room


async def _require_member(session: AsyncSession, room_id: uuid.UUID, user: User) -> Room:
    """The room, if `user` belongs to it: 404 for an unknown room, 403 for a non-member."""
    room = await _room(session, room_id)
    if not await events.is_member(session, room_id, user.id):
        raise Forbidden("Only members of this room may do this; join it first")
    return room


async def join_room(session: AsyncSession, user: User, room_id: uuid.UUID) -> RoomMember:
    """Make `user` a member; 409 if they already are (the primary key decides, race-free)."""
    await _room(session, room_id)
    member = RoomMember(room_id=room_id, user_id=user.id)
    session.add(member)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict("You are already a member of this room") from exc
    append_event(
        session, events.room_topic(room_id), events.MEMBER_JOINED, events.member_joined(member)
    )
    await session.commit()
    return member


async def post_message(session: AsyncSession, user: User, room_id: uuid.UUID, body: str) -> Message:
    """Store a member's message and publish it to the room's topic."""
    await _require_member(session, room_id, user)
    message = Message(room_id=room_id, author_id=user.id, body=body)
    session.add(message)
    await session.flush()
    append_event(
        session, events.room_topic(room_id), events.MESSAGE_POSTED, events.message_posted(message)
    )
    await session.commit()
    return message


async def list_messages(
    session: AsyncSession, user: User, room_id: uuid.UUID, before: uuid.UUID | None, limit: int
) -> tuple[list[Message], uuid.UUID | None]:
    """A page of a room's messages, newest first, older than message `before`.

    Keyset pagination on (created_at, id): new messages arriving while a client scrolls back
    neither shift nor repeat the older pages.
    """
    await _require_member(session, room_id, user)
    query = (
        select(Message)
        .where(Message.room_id == room_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        anchor = await session.get(Message, before)
        if anchor is None or anchor.room_id != room_id:
            raise Unprocessable("`before` is not the id of a message in this room")
        query = query.where(
            or_(
                Message.created_at < anchor.created_at,
                and_(Message.created_at == anchor.created_at, Message.id < anchor.id),
            )
        )
    rows = list(await session.scalars(query))
    page = rows[:limit]
    return page, (page[-1].id if len(rows) > limit else None)


async def record_activity(session: AsyncSession, room_id: uuid.UUID, at: datetime) -> bool:
    """Move the room's `last_message_at` forward to `at`; never back.

    Idempotent and order-independent, so redelivered or reordered events give the same
    result. Returns whether the room changed.
    """
    result = await session.execute(
        update(Room)
        .where(
            Room.id == room_id,
            or_(Room.last_message_at.is_(None), Room.last_message_at < at),
        )
        .values(last_message_at=at)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return bool(getattr(result, "rowcount", 0))
