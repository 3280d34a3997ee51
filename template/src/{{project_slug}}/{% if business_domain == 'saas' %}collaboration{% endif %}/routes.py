"""HTTP API of collaboration: /api/v1/rooms."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ..core.deps import CurrentUser, SessionDep
from . import events, service  # noqa: F401  (importing events registers its topic rule)
from .schemas import MemberOut, MessageIn, MessageOut, MessagePage, RoomIn, RoomOut

router = APIRouter(prefix="/api/v1", tags=["rooms"])


@router.post("/rooms", status_code=status.HTTP_201_CREATED)
async def create_room(body: RoomIn, user: CurrentUser, session: SessionDep) -> RoomOut:
    """Open a room; its creator is its first member."""
    return RoomOut.model_validate(await service.create_room(session, user, body.name))


@router.get("/rooms")
async def list_rooms(
    user: CurrentUser, session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[RoomOut]:
    """The rooms I am a member of, most recently active first."""
    return [RoomOut.model_validate(r) for r in await service.list_rooms(session, user, limit)]


@router.post("/rooms/{room_id}/join", status_code=status.HTTP_201_CREATED)
async def join_room(room_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> MemberOut:
    """Become a member of a room. 409 if I already am."""
    return MemberOut.model_validate(await service.join_room(session, user, room_id))


@router.post("/rooms/{room_id}/messages", status_code=status.HTTP_201_CREATED)
async def post_message(
    room_id: uuid.UUID, body: MessageIn, user: CurrentUser, session: SessionDep
) -> MessageOut:
    """Post a message (members only); it is streamed to every member at once."""
    message = await service.post_message(session, user, room_id, body.body)
    return MessageOut.model_validate(message)


@router.get("/rooms/{room_id}/messages")
async def list_messages(
    room_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    before: Annotated[
        uuid.UUID | None, Query(description="`next_before` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    """A room's messages, newest first (members only)."""
    items, next_before = await service.list_messages(session, user, room_id, before, limit)
    return MessagePage(items=[MessageOut.model_validate(m) for m in items], next_before=next_before)
