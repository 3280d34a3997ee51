"""Background jobs on taskiq: in-process by default, a Redis stream with a worker in production.

- `broker` runs jobs inside the web process on the embedded default (no Redis) and pushes
  them to a Redis stream (acknowledged, so a crashed worker's jobs are redelivered)
  when REDIS_URL is set; `<package> worker` consumes them.
- Failed jobs are retried (`SimpleRetryMiddleware`), so handlers must be idempotent.
- Cron jobs are tasks with a `schedule` label; the scheduler sends each once per due minute,
  de-duplicated across worker replicas through Redis.
- Event-log entries reach handlers registered with `on_event` through `handle_event`.
"""

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import structlog
from redis.asyncio import Redis
from sqlalchemy import delete
from taskiq import (
    AsyncBroker,
    InMemoryBroker,
    ScheduledTask,
    ScheduleSource,
    SimpleRetryMiddleware,
    TaskiqMessage,
    TaskiqMiddleware,
    TaskiqResult,
    TaskiqScheduler,
)
from taskiq.cli.scheduler.run import SchedulerLoop
from taskiq.schedule_sources import LabelScheduleSource
from taskiq_redis import RedisStreamBroker

from .auth.models import RefreshToken
from .config import Settings, get_settings
from .db import Database, utcnow
from .metrics import JOBS
from .outbox import OutboxEvent

log = structlog.get_logger(__name__)
EventHandler = Callable[[Database, dict[str, Any]], Awaitable[None]]
_handlers: dict[str, list[EventHandler]] = defaultdict(list)
RETRIES = 3


class JobMetrics(TaskiqMiddleware):
    """Count finished jobs by task and outcome for /metrics."""

    def post_execute(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        JOBS.labels(message.task_name, "error" if result.is_err else "ok").inc()


def build_broker(settings: Settings) -> AsyncBroker:
    """The queue for these settings: in-process, or a Redis stream shared by the workers."""
    chosen: AsyncBroker = (
        RedisStreamBroker(settings.redis_url, queue_name=f"{settings.redis_prefix}:jobs")
        if settings.redis_url
        else InMemoryBroker()
    )
    return chosen.with_middlewares(
        SimpleRetryMiddleware(default_retry_count=RETRIES, default_retry_label=True),
        JobMetrics(),
    )


broker = build_broker(get_settings())


def database() -> Database:
    """The database the jobs of this process use (the app's own in-process mode)."""
    db: Database = broker.state.db
    return db


def on_event(event_type: str) -> Callable[[EventHandler], EventHandler]:
    """Register an idempotent handler for events of `event_type` (at-least-once delivery)."""

    def register(handler: EventHandler) -> EventHandler:
        _handlers[event_type].append(handler)
        return handler

    return register


def handles(event_type: str) -> bool:
    return event_type in _handlers


@broker.task(task_name="events.handle")
async def handle_event(message: dict[str, Any]) -> None:
    """Run every handler registered for the event's type."""
    for handler in _handlers.get(message["type"], ()):
        await handler(database(), message)


async def deliver_event(message: dict[str, Any]) -> None:
    """Queue an event for its handlers (used by the outbox dispatcher)."""
    if handles(message["type"]):
        await handle_event.kiq(message)


# Fixed schedule ids: the scheduler replicas de-duplicate sends by them.
@broker.task(
    task_name="maintenance.purge_refresh_tokens",
    schedule=[{"cron": "17 * * * *", "schedule_id": "purge_refresh_tokens"}],
)
async def purge_refresh_tokens() -> int:
    """Delete refresh tokens that expired: they can never be used again."""
    async with database().sessions() as session, session.begin():
        expired = delete(RefreshToken).where(RefreshToken.expires_at < utcnow())
        result = await session.execute(expired)
    return int(getattr(result, "rowcount", 0) or 0)


@broker.task(
    task_name="maintenance.purge_events",
    schedule=[{"cron": "41 3 * * *", "schedule_id": "purge_events"}],
)
async def purge_events() -> int:
    """Apply the retention period to the event log (published entries only)."""
    cutoff = utcnow() - timedelta(days=get_settings().event_retention_days)
    async with database().sessions() as session, session.begin():
        result = await session.execute(
            delete(OutboxEvent).where(
                OutboxEvent.published_at.is_not(None), OutboxEvent.created_at < cutoff
            )
        )
    return int(getattr(result, "rowcount", 0) or 0)


class OncePerMinuteScheduler(TaskiqScheduler):
    """Send each due cron job once even when several worker replicas run the scheduler."""

    def __init__(self, broker: AsyncBroker, sources: list[ScheduleSource], redis: Redis | None):
        super().__init__(broker, sources)
        self.redis = redis

    async def on_ready(self, source: ScheduleSource, task: ScheduledTask) -> None:
        if self.redis is not None:
            minute = utcnow().strftime("%Y%m%d%H%M")
            key = f"{get_settings().redis_prefix}:cron:{task.schedule_id}:{minute}"
            if not await self.redis.set(key, "1", nx=True, ex=120):
                return
        await super().on_ready(source, task)


def build_scheduler(settings: Settings) -> OncePerMinuteScheduler:
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    return OncePerMinuteScheduler(broker, [LabelScheduleSource(broker)], redis)


async def run_scheduler(settings: Settings) -> None:
    """Send cron jobs when due, until cancelled."""
    scheduler = build_scheduler(settings)
    await scheduler.startup()
    try:
        await SchedulerLoop(scheduler).run(skip_first_run=True)
    finally:
        if scheduler.redis is not None:
            await scheduler.redis.aclose()


@contextlib.asynccontextmanager
async def background(db: Database, settings: Settings) -> Any:
    """Start the broker (client side) with `db`; in-process mode also runs the scheduler."""
    broker.state.db = db
    await broker.startup()
    scheduler = asyncio.create_task(run_scheduler(settings)) if settings.in_process else None
    try:
        yield broker
    finally:
        if scheduler is not None:
            scheduler.cancel()
            await asyncio.wait({scheduler}, timeout=5)
        try:
            async with asyncio.timeout(5):
                await broker.shutdown()
        except TimeoutError:
            log.warning("shutdown_step_timed_out", step="job broker", seconds=5)
