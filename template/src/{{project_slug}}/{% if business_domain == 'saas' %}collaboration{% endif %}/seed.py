"""Demo rooms with every user as a member and `size` messages of conversation history."""

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.auth.models import User
from ..core.db import utcnow
from .models import Message, Room, RoomMember

ROOMS = ("general", "random", "engineering", "design", "support")
LINES = (
    "Morning all! Stand-up in ten minutes.",
    "Pushed the fix, CI is green.",
    "Can someone review my pull request?",
    "Lunch at the usual place?",
    "The staging deploy looks good to me.",
    "Customer reported the issue is gone.",
)
MAX_MEMBERS = 500


async def _rooms(session: AsyncSession, creator: uuid.UUID) -> list[Room]:
    """The demo rooms (matched by name), created if missing."""
    existing = {
        room.name: room for room in await session.scalars(select(Room).where(Room.name.in_(ROOMS)))
    }
    for name in ROOMS:
        if name not in existing:
            existing[name] = Room(name=name, created_by=creator)
            session.add(existing[name])
    await session.flush()
    return [existing[name] for name in ROOMS]


async def _memberships(session: AsyncSession, rooms: list[Room], users: list[uuid.UUID]) -> None:
    for room in rooms:
        present = set(
            await session.scalars(select(RoomMember.user_id).where(RoomMember.room_id == room.id))
        )
        missing = [{"room_id": room.id, "user_id": u} for u in users if u not in present]
        if missing:
            await session.execute(insert(RoomMember), missing)


def _history(rooms: list[Room], users: list[uuid.UUID], size: int) -> list[dict[str, Any]]:
    """`size` messages spread over the rooms and authors, a minute apart, ending now."""
    start = utcnow() - timedelta(minutes=size)
    return [
        {
            "room_id": rooms[i % len(rooms)].id,
            "author_id": users[i % len(users)],
            "body": LINES[i % len(LINES)],
            "created_at": start + timedelta(minutes=i),
        }
        for i in range(size)
    ]


async def seed(session: AsyncSession, size: int) -> str:
    """Rooms and members every run; the message history only into rooms that have none."""
    users = list(
        await session.scalars(select(User.id).order_by(User.created_at).limit(MAX_MEMBERS))
    )
    if not users:
        return "rooms: skipped, there are no users to put in them"
    rooms = await _rooms(session, users[0])
    await _memberships(session, rooms, users)
    has_messages = await session.scalar(
        select(func.count()).select_from(Message).where(Message.room_id.in_([r.id for r in rooms]))
    )
    rows = [] if has_messages else _history(rooms, users, size)
    if rows:
        await session.execute(insert(Message), rows)
        latest = select(func.max(Message.created_at)).where(Message.room_id == Room.id)
        await session.execute(
            update(Room)
            .where(Room.id.in_([r.id for r in rooms]))
            .values(last_message_at=latest.scalar_subquery())
            .execution_options(synchronize_session=False)
        )
    await session.commit()
    return f"rooms: {len(rooms)} with {len(users)} members each, {len(rows)} messages created"
