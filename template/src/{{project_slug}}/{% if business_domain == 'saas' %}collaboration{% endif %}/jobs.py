"""Background work of collaboration, driven by the event log."""

import uuid
from datetime import datetime
from typing import Any

from ..core.db import Database
from ..core.jobs import on_event
from . import events, service


@on_event(events.MESSAGE_POSTED)
async def track_room_activity(db: Database, message: dict[str, Any]) -> None:
    """Keep `Room.last_message_at` current, so room lists show the liveliest rooms first.

    Done after the fact rather than in `post_message`: a busy room's messages would otherwise
    all contend for the room's row. Safe to repeat (see `service.record_activity`).
    """
    payload = message["payload"]
    async with db.sessions() as session:
        await service.record_activity(
            session,
            uuid.UUID(payload["room_id"]),
            datetime.fromisoformat(payload["created_at"]),
        )
