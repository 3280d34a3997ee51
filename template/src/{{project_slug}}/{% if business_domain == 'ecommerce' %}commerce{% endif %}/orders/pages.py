"""Cache of each customer's order list, the hottest signed-in read.

A customer's orders change a few times per order (checkout, payment, fulfilment...), and are
read far more often (order pages, apps polling for status), so the rendered page is kept as
JSON bytes and a hit costs one Redis round trip (or a dictionary lookup on the embedded
default) instead of a database session and two queries.

The scheme is the catalog's (`..cache`): every entry is stored under its customer's version,
read before the database is; every change to a customer's orders bumps that version after it
commits (`orders_changed`, called by the orders service's `commit`). An entry rendered from
data older than a change can therefore never be served after it, on any instance, and a
customer always sees their new order on the next read.
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request

from ..cache import CatalogCache, bump_after_commit, cache_for

NAMESPACE = "orders"


async def pages_of(request: Request) -> CatalogCache:
    """The order-page cache of the app serving `request`."""
    return await pages_for(request.app)


async def pages_for(app: Starlette) -> CatalogCache:
    """The order-page cache of an app instance, created at its startup (or on first use)."""
    return await cache_for(app, NAMESPACE)


def page_key(user_id: uuid.UUID, cursor: str | None, limit: int) -> str:
    return f"{user_id}:{limit}:{cursor or ''}"


async def orders_changed(session: AsyncSession, user_ids: set[uuid.UUID]) -> None:
    """Make the cached order pages of these customers stale; call it after the commit."""
    if user_ids:
        await bump_after_commit(session, tuple(user_ids), NAMESPACE)
