"""Transactional outbox: the event log that domain code appends to.

`append_event` adds an event to the caller's session, so it commits or rolls back with the
change it describes. The dispatcher then publishes committed events, in id order, to the
real-time hub (and so to Server-Sent Events and socket clients on every instance) and hands
them to job handlers. Delivery is at least once: an event is marked published only after
both succeeded, and several dispatchers share the work with `FOR UPDATE SKIP LOCKED`.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import structlog
from fastapi.encoders import jsonable_encoder
from sqlalchemy import JSON, String, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, BigIntPK, Database, utcnow
from .metrics import EVENTS_PUBLISHED
from .realtime import Hub

log = structlog.get_logger(__name__)
_PENDING = "outbox_pending"


class OutboxEvent(Base):
    """One fact that happened, in commit order by `id` (the SSE event id)."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=None, index=True)

    def message(self) -> dict[str, Any]:
        """The wire form shared by the hub, SSE and job handlers."""
        return {
            "id": self.id,
            "topic": self.topic,
            "type": self.type,
            "payload": self.payload,
            "created_at": self.created_at.isoformat(),
        }


def append_event(session: AsyncSession, topic: str, type_: str, payload: Mapping[str, Any]) -> None:
    """Record an event in the caller's transaction (it is published after the commit)."""
    session.add(OutboxEvent(topic=topic, type=type_, payload=jsonable_encoder(payload)))
    session.info[_PENDING] = True


Deliver = Callable[[dict[str, Any]], Awaitable[None]]


class Dispatcher:
    """Publishes committed events; woken right after a commit that appended any."""

    def __init__(
        self,
        db: Database,
        hub: Hub,
        deliver: Deliver,
        poll_seconds: float = 0.5,
        batch: int = 200,
    ) -> None:
        self.sessions = db.sessions
        self.hub = hub
        self.deliver = deliver
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.wake = asyncio.Event()
        self.stopping = False
        event.listen(db.session_class, "after_commit", self._after_commit)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_PENDING, False):
            self.wake.set()

    async def run_once(self) -> int:
        """Publish one batch of pending events; returns how many were published."""
        async with self.sessions() as session, session.begin():
            pending = await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.published_at.is_(None))
                .order_by(OutboxEvent.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            events = list(pending)
            now = utcnow()
            for item in events:
                message = item.message()
                await self.hub.publish(item.topic, message)
                await self.deliver(message)
                item.published_at = now
                EVENTS_PUBLISHED.labels(item.type).inc()
        return len(events)

    def stop(self) -> None:
        """Let `run` finish the batch in hand and return.

        Cancelling it instead could interrupt a batch's transaction halfway, leaving its
        connection unreturned (on SQLite, still holding the database's write lock).
        """
        self.stopping = True
        self.wake.set()

    async def run(self) -> None:
        """Publish until stopped; a failing batch is logged and retried after a pause."""
        while not self.stopping:
            self.wake.clear()
            try:
                published = await self.run_once()
            except Exception:
                log.exception("outbox_dispatch_failed")
                published = 0
            if published >= self.batch:
                continue
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that
            # arrives as its timeout fires, and the app's shutdown would then hang.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self.wake.wait()
