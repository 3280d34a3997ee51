"""Audit log: who did what to which record, when, and what it looked like before and after.

Domain code calls `record` in the transaction of the change it describes, so an action is
logged if and only if it happened. Entries are never updated or deleted by the service, and
they name their actor by id only (no foreign key): the trail outlives any account and stays
free of personal data beyond that id. Admins read it at `GET /api/v1/admin/audit`.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from asgi_correlation_id import correlation_id
from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Index, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from .auth.models import User
from .db import Base, BigIntPK, utcnow
from .deps import AdminUser, SessionDep


class AuditEntry(Base):
    """One administrative action, in the order it was committed (by `id`)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_entity", "entity", "entity_id", "id"),
        Index("ix_audit_entries_actor", "actor_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID]
    action: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[str] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # The X-Request-ID of the HTTP request that did it, to find its log lines.
    request_id: Mapped[str | None] = mapped_column(String(100), default=None)


def record(
    session: AsyncSession,
    actor: User,
    action: str,
    entity: str,
    entity_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """Add an audit entry to the caller's session: it commits (or not) with the change.

    `before` and `after` are the record's state around the action (None when it did not exist
    before, or no longer exists after); values are stored as JSON (ids and times as strings).
    """
    session.add(
        AuditEntry(
            actor_id=actor.id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=None if before is None else jsonable_encoder(dict(before)),
            after=None if after is None else jsonable_encoder(dict(after)),
            request_id=correlation_id.get(),
        )
    )


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: uuid.UUID
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


class AuditPage(BaseModel):
    """Entries newest first; pass `next_cursor` as `cursor` for older ones."""

    items: list[AuditEntryOut]
    next_cursor: int | None


router = APIRouter(prefix="/api/v1/admin", tags=["audit"])
Filter = Annotated[str | None, Query(min_length=1, max_length=100)]


@router.get("/audit")
async def list_audit(
    _admin: AdminUser,
    session: SessionDep,
    entity: Filter = None,
    entity_id: Filter = None,
    actor: Annotated[uuid.UUID | None, Query(description="Id of the acting user")] = None,
    cursor: Annotated[
        int | None, Query(ge=1, description="`next_cursor` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """The audit log, newest first, optionally of one entity or actor (admins only).

    Keyset pagination on the id: a page is one index range scan, however old the entries.
    """
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    if actor is not None:
        query = query.where(AuditEntry.actor_id == actor)
    if cursor is not None:
        query = query.where(AuditEntry.id < cursor)
    rows = list(await session.scalars(query))
    page = rows[:limit]
    return AuditPage(
        items=[AuditEntryOut.model_validate(row) for row in page],
        next_cursor=page[-1].id if len(rows) > limit else None,
    )
