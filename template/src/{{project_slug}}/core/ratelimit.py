"""Rate limits from the sizing profile, per process for request rates, shared for logins.

Built on the `limits` library. Anonymous requests are limited per client address by
middleware, authenticated ones per user by a dependency: both are checked in this process's
memory (a sliding-window counter, a few microseconds), because a Redis round trip on every
request costs about 0.2 ms of CPU, more than serving a cached catalog page. Each process
therefore enforces the full limit on its own; the global per-address limit across instances
is the edge's job (the WAF rate rule rendered in infra/ when the budget includes a WAF).
Login attempts are rare and are what brute force targets, so they are counted in Redis when
there is one (a moving window shared by every instance). Every refusal is a 429 problem with
`Retry-After`.
"""

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    MovingWindowRateLimiter,
    SlidingWindowCounterRateLimiter,
)
from limits.aio.strategies import (
    RateLimiter as Strategy,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import Settings
from .errors import TooManyRequests, problem_response

# Socket.IO authenticates its connections itself (JWT); long-polling requests carry no
# bearer header and must not eat the per-address budget of the HTTP API.
EXEMPT_PREFIXES = ("/health", "/metrics", "/docs", "/redoc", "/openapi.json", "/socket.io")


class RateLimiter:
    """Check and count hits against named limits."""

    def __init__(self, settings: Settings) -> None:
        self.local: Storage = MemoryStorage()
        self.storage: Storage = (
            RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",
                key_prefix=f"{settings.redis_prefix}:limits",
            )
            if settings.redis_url
            else self.local
        )
        self.per_process: Strategy = SlidingWindowCounterRateLimiter(self.local)
        self.shared: Strategy = MovingWindowRateLimiter(self.storage)
        self.anonymous = parse(settings.rate_limit_anonymous)
        self.authenticated = parse(settings.rate_limit_authenticated)
        self.login = parse(settings.rate_limit_login)

    def _strategy(self, item: RateLimitItem) -> Strategy:
        return self.shared if item is self.login else self.per_process

    async def retry_after(self, item: RateLimitItem, *key: str) -> int | None:
        """Count one hit; None when allowed, else seconds until the next hit is allowed."""
        strategy = self._strategy(item)
        if await strategy.hit(item, *key):
            return None
        stats = await strategy.get_window_stats(item, *key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def enforce(self, item: RateLimitItem, *key: str) -> None:
        """Raise a 429 problem when the limit for `key` is used up."""
        wait = await self.retry_after(item, *key)
        if wait is not None:
            raise TooManyRequests(
                f"Rate limit of {item} exceeded; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )


class AnonymousRateLimit:
    """Limit requests without credentials per client address (ASGI middleware)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if headers.get(b"authorization", b"").lower().startswith(b"bearer "):
            await self.app(scope, receive, send)  # limited per user by `current_user`
            return
        client = scope.get("client") or ("unknown", 0)
        wait = await self.limiter.retry_after(self.limiter.anonymous, "ip", client[0])
        if wait is None:
            await self.app(scope, receive, send)
            return
        response = problem_response(
            429,
            f"Rate limit of {self.limiter.anonymous} exceeded; retry in {wait} s",
            title="Too many requests",
            headers={"Retry-After": str(wait)},
        )
        await response(scope, receive, send)
