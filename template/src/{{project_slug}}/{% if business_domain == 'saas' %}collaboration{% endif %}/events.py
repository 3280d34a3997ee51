"""Event-log topics and payloads of rooms, and who may stream them.

Everything that happens in a room goes to `room:<room id>`: `room.created`, `member.joined`
and `message.posted` (with the message itself, so clients need no extra request). Only the
room's members may stream that topic.
"""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.auth.models import User
from ..core.stream import topic_rule
from .models import Message, Room, RoomMember

ROOM_PREFIX = "room:"
ROOM_CREATED = "room.created"
MEMBER_JOINED = "member.joined"
MESSAGE_POSTED = "message.posted"


def room_topic(room_id: uuid.UUID) -> str:
    return f"{ROOM_PREFIX}{room_id}"


def room_created(room: Room) -> dict[str, Any]:
    return {"room_id": room.id, "name": room.name, "created_by": room.created_by}


def member_joined(member: RoomMember) -> dict[str, Any]:
    return {"room_id": member.room_id, "user_id": member.user_id, "joined_at": member.joined_at}


def message_posted(message: Message) -> dict[str, Any]:
    return {
        "message_id": message.id,
        "room_id": message.room_id,
        "author_id": message.author_id,
        "body": message.body,
        "created_at": message.created_at,
    }


async def is_member(session: AsyncSession, room_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """The one membership check, shared by the stream rule and the rooms service."""
    found = await session.scalar(
        select(RoomMember.user_id).where(
            RoomMember.room_id == room_id, RoomMember.user_id == user_id
        )
    )
    return found is not None


@topic_rule(ROOM_PREFIX)
async def _members_read_their_room(session: AsyncSession, user: User, topic: str) -> bool:
    try:
        room_id = uuid.UUID(topic.removeprefix(ROOM_PREFIX))
    except ValueError:
        return False
    return await is_member(session, room_id, user.id)
