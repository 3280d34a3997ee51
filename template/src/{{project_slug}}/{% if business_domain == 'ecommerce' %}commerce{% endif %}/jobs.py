"""Background work of the catalog, driven by the event log."""

import uuid
from typing import Any

from ..core.db import Database
from ..core.jobs import on_event
from . import events, service
from .orders import jobs as orders_jobs  # noqa: F401  (registers the order jobs)


@on_event(events.INVENTORY_UPDATED)
async def announce_sold_out(db: Database, message: dict[str, Any]) -> None:
    """When a product's stock reaches 0, mark it sold out and tell the `catalog` topic.

    Storefronts listening on `catalog` grey the product out without polling every product's
    inventory topic. Safe to run twice for one event (see `service.mark_sold_out`).
    """
    payload = message["payload"]
    if payload["stock"] != 0:
        return
    async with db.sessions() as session:
        await service.mark_sold_out(session, uuid.UUID(payload["product_id"]))
