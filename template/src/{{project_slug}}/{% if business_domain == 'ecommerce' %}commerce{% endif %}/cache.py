"""Read cache of the public catalog: serialized responses, invalidated by version counters.

Public reads (the product list, a product, the categories) are answered with the response
bytes rendered by an earlier request, so a hit costs a dictionary lookup (embedded default)
or one Redis round trip (REDIS_URL set, shared by every instance), and never a database
session.

Invalidation does not delete entries: every entry is stored with the *tag* it was rendered
under, made of the catalog's generation (bumped by every admin write) and, for a product, the
product's own version (bumped by every stock change, so checkouts never make the catalog's
lists miss). A read whose stored tag differs from the current one is a miss. Because the
reader takes the tag before it queries the database, and writers bump after they commit, an
entry rendered from data older than a change can never be served after it, whatever the
interleaving. With Redis the counters live in Redis, so a write on one instance invalidates
the entries of all of them at once.

Callers outside the catalog that change stock (checkout, expired reservations) call
`invalidate_product(session, product_id)` after their commit.
"""

import itertools
import secrets
import uuid
import weakref
from typing import Protocol, cast

import structlog
from cachetools import LRUCache, TTLCache
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request

from ..core.config import get_settings
from ..core.microcache import ResponseStore

log = structlog.get_logger(__name__)

# Entries expire anyway after this long: a bound on staleness should an invalidation be lost
# (Redis briefly unreachable while an admin saves).
ENTRY_TTL_SECONDS = 300
LOCAL_MAX_ENTRIES = 20_000
LOCAL_MAX_VERSIONS = 1_000_000
# Public reads also answer `Cache-Control: public, max-age=SHARED_MAX_AGE`: this process's
# micro-cache (core/microcache.py), and any CDN in front, keep the response that long. The
# instance that makes a change purges its own copy at once; other instances (and CDNs) may
# show the old response for at most this long.
SHARED_MAX_AGE = 5
# The path whose stored responses a stock change of a product makes stale.
PRODUCT_PATH = "/api/v1/products/{}"


class CatalogCache(Protocol):
    """Where rendered responses are kept, and the counters that make them current or not."""

    # This process's micro-cache of whole responses, purged with the entries here.
    responses: ResponseStore | None

    async def lookup(
        self, key: str, product_id: uuid.UUID | None = None
    ) -> tuple[bytes | None, bytes]:
        """The cached body for `key` if it is current, and the tag to store a fresh one with."""

    async def store(self, key: str, tag: bytes, body: bytes) -> None:
        """Keep `body` under `key`, rendered under `tag` (from the `lookup` that missed)."""

    async def bump_catalog(self) -> None:
        """Make every entry stale (an admin changed the catalog)."""

    async def bump_products(self, product_ids: tuple[uuid.UUID, ...]) -> None:
        """Make the entries of these products stale (their stock changed)."""


class LocalCache:
    """In-process cache for the embedded default (one process, so nothing to share)."""

    responses: ResponseStore | None = None

    def __init__(self) -> None:
        self.entries: TTLCache[str, tuple[bytes, bytes]] = TTLCache(
            LOCAL_MAX_ENTRIES, ENTRY_TTL_SECONDS
        )
        self.generation = 0
        # Values come from one counter, so a version evicted and read back as 0 never equals
        # the tag of an entry stored after an invalidation.
        self.versions: LRUCache[uuid.UUID, int] = LRUCache(LOCAL_MAX_VERSIONS)
        self._counter = itertools.count(1)

    def _tag(self, product_id: uuid.UUID | None) -> bytes:
        version = 0 if product_id is None else self.versions.get(product_id, 0)
        return b"%d.%d" % (self.generation, version)

    async def lookup(
        self, key: str, product_id: uuid.UUID | None = None
    ) -> tuple[bytes | None, bytes]:
        tag = self._tag(product_id)
        entry = self.entries.get(key)
        if entry is not None and entry[0] == tag:
            return entry[1], tag
        return None, tag

    async def store(self, key: str, tag: bytes, body: bytes) -> None:
        self.entries[key] = (tag, body)

    async def bump_catalog(self) -> None:
        self.generation += 1
        self.entries.clear()
        _purge(self.responses, ())

    async def bump_products(self, product_ids: tuple[uuid.UUID, ...]) -> None:
        for product_id in product_ids:
            self.versions[product_id] = next(self._counter)
        _purge(self.responses, product_ids)


class RedisCache:
    """Cache shared by every instance through Redis: one MGET per read, hit or miss."""

    responses: ResponseStore | None = None

    def __init__(self, redis: "Redis", prefix: str, namespace: str = "catalog") -> None:
        self.redis = redis
        # The customers' order pages (orders/pages.py) keep their entries in a namespace of
        # their own, versioned per customer instead of per product.
        self.prefix = f"{prefix}:{namespace}"
        self.generation_key = f"{self.prefix}:generation"

    def _version_key(self, product_id: uuid.UUID) -> str:
        return f"{self.prefix}:version:{product_id}"

    async def lookup(
        self, key: str, product_id: uuid.UUID | None = None
    ) -> tuple[bytes | None, bytes]:
        keys = [self.generation_key, f"{self.prefix}:entry:{key}"]
        if product_id is not None:
            keys.append(self._version_key(product_id))
        try:
            # The app's client does not decode responses: values are bytes (or None).
            values = cast("list[bytes | None]", await self.redis.mget(keys))
        except RedisError:
            log.warning("catalog_cache_unavailable", operation="lookup")
            return None, b""
        generation, entry = values[0] or b"0", values[1]
        version = (values[2] if product_id is not None else None) or b"0"
        tag = generation + b"." + version
        if entry is not None:
            stored_tag, _, body = entry.partition(b"|")
            if stored_tag == tag:
                return body, tag
        return None, tag

    async def store(self, key: str, tag: bytes, body: bytes) -> None:
        if not tag:  # the lookup could not read the counters: nothing safe to store under
            return
        try:
            await self.redis.set(
                f"{self.prefix}:entry:{key}", tag + b"|" + body, ex=ENTRY_TTL_SECONDS
            )
        except RedisError:
            log.warning("catalog_cache_unavailable", operation="store")

    async def bump_catalog(self) -> None:
        try:
            await self.redis.incr(self.generation_key)
        except RedisError:
            log.warning("catalog_cache_invalidation_failed", scope="catalog")
        _purge(self.responses, ())

    async def bump_products(self, product_ids: tuple[uuid.UUID, ...]) -> None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for product_id in product_ids:
                    # A random version never repeats (a counter would restart at 1 once its
                    # key expired, and could match an entry tagged before), and it outlives
                    # every entry tagged with the version before it.
                    version = secrets.token_hex(8)
                    pipe.set(self._version_key(product_id), version, ex=2 * ENTRY_TTL_SECONDS)
                await pipe.execute()
        except RedisError:
            log.warning("catalog_cache_invalidation_failed", scope="products")
        _purge(self.responses, product_ids)


def _purge(responses: ResponseStore | None, product_ids: tuple[uuid.UUID, ...]) -> None:
    """Drop this process's stored public responses that a change makes stale.

    A stock change touches only the product's own page (lists show no stock); anything else
    (no product ids) may change any public read.
    """
    if responses is None:
        return
    if not product_ids:
        responses.purge()
    for product_id in product_ids:
        responses.purge(PRODUCT_PATH.format(product_id))


CATALOG = "catalog"

# Each app instance's caches, by namespace and by the session class of its database, so code
# that has a session (services, jobs, the orders package) finds the caches its instance reads.
_registered: "dict[str, weakref.WeakKeyDictionary[type, CatalogCache]]" = {}


async def cache_of(request: Request) -> CatalogCache:
    """The catalog cache of the app serving `request`."""
    return await cache_for(request.app)


async def cache_for(app: Starlette, namespace: str = CATALOG) -> CatalogCache:
    """An app instance's cache of `namespace`, created at its startup (or on first use).

    A new instance bumps the namespace's generation once: it never trusts entries rendered
    before it started, possibly by an older release with another response shape.
    """
    state = app.state
    caches: dict[str, CatalogCache] = state.__dict__.setdefault("read_caches", {})
    cache = caches.get(namespace)
    if cache is None:
        redis: Redis | None = state.redis
        if redis is None:
            cache = LocalCache()
        else:
            cache = RedisCache(redis, state.settings.redis_prefix, namespace)
        if namespace == CATALOG:
            cache.responses = state.microcache
        caches[namespace] = cache
        registry = _registered.setdefault(namespace, weakref.WeakKeyDictionary())
        registry[state.db.session_class] = cache
        if redis is not None:
            await cache.bump_catalog()
    return cache


async def bump_after_commit(
    session: AsyncSession, ids: tuple[uuid.UUID, ...], namespace: str = CATALOG
) -> None:
    """Make stale the entries of `ids` (every entry of the namespace when empty) in the cache
    of the instance `session` belongs to; call it after the commit.

    From a process that serves no reads (a worker), straight in Redis, if any. Without Redis
    there is nothing to do then: jobs run inside the serving process, whose sessions are
    registered, and a process that never served a read has cached nothing.
    """
    registry = _registered.get(namespace)
    cache = registry.get(type(session.sync_session)) if registry is not None else None
    if cache is not None:
        await (cache.bump_products(ids) if ids else cache.bump_catalog())
        return
    settings = get_settings()
    if not settings.redis_url:
        return
    redis = Redis.from_url(settings.redis_url)
    try:
        detached = RedisCache(redis, settings.redis_prefix, namespace)
        await (detached.bump_products(ids) if ids else detached.bump_catalog())
    finally:
        await redis.aclose()


async def invalidate_product(session: AsyncSession, *product_ids: uuid.UUID) -> None:
    """Make the cached reads of these products stale; call it after committing a stock change.

    Lists are not affected (they show no stock), so sales never empty the list cache.
    """
    if product_ids:
        await bump_after_commit(session, product_ids)


async def catalog_changed(session: AsyncSession) -> None:
    """Make every cached read stale; call it after committing a change to the catalog itself."""
    await bump_after_commit(session, ())
