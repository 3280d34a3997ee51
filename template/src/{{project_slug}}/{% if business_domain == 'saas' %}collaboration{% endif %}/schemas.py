"""Request and response bodies of the rooms API."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..core.schemas import Input

MAX_BODY = 4000

RoomName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Kept as written (leading spaces can matter, as in code), but never blank.
Body = Annotated[str, Field(min_length=1, max_length=MAX_BODY, pattern=r"\S")]


class RoomIn(Input):
    name: RoomName


class RoomOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created_by: uuid.UUID | None
    created_at: datetime
    last_message_at: datetime | None


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    room_id: uuid.UUID
    user_id: uuid.UUID
    joined_at: datetime


class MessageIn(Input):
    body: Body


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    room_id: uuid.UUID
    author_id: uuid.UUID
    body: str
    created_at: datetime


class MessagePage(BaseModel):
    """Messages newest first; pass `next_before` as `before` for older ones."""

    items: list[MessageOut]
    next_before: uuid.UUID | None
