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
import weakref

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request

from ...core.config import get_settings
from ..cache import CatalogCache, LocalCache, RedisCache

NAMESPACE = "orders"

# By the session class of each app instance's database, as the catalog cache is found.
_by_session_class: "weakref.WeakKeyDictionary[type, CatalogCache]" = weakref.WeakKeyDictionary()


async def pages_of(request: Request) -> CatalogCache:
    """The order-page cache of the app serving `request`."""
    return await pages_for(request.app)


async def pages_for(app: Starlette) -> CatalogCache:
    """The order-page cache of an app instance, created at its startup (or on first use).

    A new instance bumps the namespace's generation once, so it never serves a page rendered
    by an older release (whose response shape may differ).
    """
    state = app.state
    pages: CatalogCache | None = getattr(state, "order_pages", None)
    if pages is None:
        redis: Redis | None = state.redis
        if redis is None:
            pages = LocalCache()
        else:
            pages = RedisCache(redis, state.settings.redis_prefix, NAMESPACE)
        state.order_pages = pages
        _by_session_class[state.db.session_class] = pages
        if redis is not None:
            await pages.bump_catalog()
    return pages


def page_key(user_id: uuid.UUID, cursor: str | None, limit: int) -> str:
    return f"{user_id}:{limit}:{cursor or ''}"


async def orders_changed(session: AsyncSession, user_ids: set[uuid.UUID]) -> None:
    """Make the cached order pages of these customers stale; call it after the commit."""
    if not user_ids:
        return
    pages = _by_session_class.get(type(session.sync_session))
    if pages is not None:
        await pages.bump_products(tuple(user_ids))
        return
    # A process that serves no reads (the worker's jobs): straight in Redis. Without Redis,
    # jobs run in the serving process, whose sessions are registered above.
    settings = get_settings()
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url)
        try:
            await RedisCache(redis, settings.redis_prefix, NAMESPACE).bump_products(tuple(user_ids))
        finally:
            await redis.aclose()
