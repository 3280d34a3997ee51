"""Tables of collaboration: rooms, who belongs to them, and their messages."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, Timestamped, utcnow


class Room(Timestamped, Base):
    """A place where members talk. Any user may join; only members read and write."""

    __tablename__ = "rooms"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    # A room outlives its creator's account (erasure), so the link is cleared, not cascaded.
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Kept up to date from `message.posted` events, to list the most active rooms first.
    last_message_at: Mapped[datetime | None] = mapped_column(default=None)


class RoomMember(Base):
    """Membership: the key to reading and posting in a room, and to its event topic."""

    __tablename__ = "room_members"

    room_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Timestamped, Base):
    """A message in a room; read newest first through the (room_id, created_at) index."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_room_id_created_at", "room_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
