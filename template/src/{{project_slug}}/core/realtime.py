"""Real-time hub: publish a message to a topic, reach every subscriber on every instance.

`Hub` fans out inside one process (the embedded default). `RedisHub` publishes through Redis
pub/sub and fans each message out to this process's subscribers, so an event dispatched on
one instance reaches clients connected to any instance.
"""

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)
Message = dict[str, Any]


class Subscription:
    """A bounded queue of messages for one subscriber; a slow reader is cut off, not waited for."""

    def __init__(self, topics: frozenset[str], size: int = 1000) -> None:
        self.topics = topics
        self.queue: asyncio.Queue[Message] = asyncio.Queue(size)
        self.overflowed = False

    def offer(self, message: Message) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True

    async def get(self) -> Message:
        return await self.queue.get()


class Hub:
    """In-process pub/sub."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    async def start(self) -> None:
        """Nothing to connect in-process."""

    async def stop(self) -> None:
        """Nothing to close in-process."""

    async def publish(self, topic: str, message: Message) -> None:
        self.fan_out(topic, message)

    def fan_out(self, topic: str, message: Message) -> None:
        """Hand a message to this process's subscribers of `topic`."""
        for subscription in tuple(self._subscribers.get(topic, ())):
            subscription.offer(message)

    @contextlib.asynccontextmanager
    async def subscribe(self, topics: Iterable[str]) -> AsyncIterator[Subscription]:
        subscription = Subscription(frozenset(topics))
        for topic in subscription.topics:
            self._subscribers[topic].add(subscription)
        try:
            yield subscription
        finally:
            for topic in subscription.topics:
                self._subscribers[topic].discard(subscription)
                if not self._subscribers[topic]:
                    del self._subscribers[topic]


class RedisHub(Hub):
    """Pub/sub across instances: one Redis pattern subscription per process."""

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__()
        self.redis: Redis = Redis.from_url(url)
        self.channel_prefix = f"{prefix}:hub:"
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="hub-listener")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.redis.aclose()

    async def publish(self, topic: str, message: Message) -> None:
        await self.redis.publish(self.channel_prefix + topic, json.dumps(message))

    async def _listen(self) -> None:
        """Forward Redis messages to local subscribers; reconnect if Redis goes away."""
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(self.channel_prefix + "*")
                self._ready.set()
                while True:
                    raw = await pubsub.get_message(timeout=1.0)
                    if raw is not None:
                        topic = raw["channel"].decode().removeprefix(self.channel_prefix)
                        self.fan_out(topic, json.loads(raw["data"]))
            except (RedisError, OSError):
                log.exception("hub_listener_lost_redis")
                await asyncio.sleep(1)
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]


def create_hub(redis_url: str | None, prefix: str) -> Hub:
    """Redis-backed when Redis is configured, in-process otherwise."""
    return RedisHub(redis_url, prefix) if redis_url else Hub()
