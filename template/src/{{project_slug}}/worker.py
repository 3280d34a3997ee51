"""The `worker` process: consumes the Redis job stream and runs the cron scheduler."""

import asyncio
import contextlib

import structlog
from taskiq.receiver import Receiver

from . import registry  # noqa: F401  (registers the domain's jobs and event handlers)
from .core import jobs
from .core.config import Settings
from .core.db import Database
from .core.logging import configure_logging

log = structlog.get_logger(__name__)


async def run(settings: Settings, stop: asyncio.Event) -> None:
    """Work until `stop` is set (by SIGINT/SIGTERM from the CLI, or by a test)."""
    configure_logging(settings.log_level)
    db = Database(settings)
    jobs.broker.is_worker_process = True
    jobs.broker.state.db = db
    receiver = Receiver(jobs.broker, max_async_tasks=settings.worker_concurrency)
    scheduler = asyncio.create_task(jobs.run_scheduler(settings), name="cron-scheduler")
    log.info("worker_started", concurrency=settings.worker_concurrency)
    try:
        await receiver.listen(stop)
    finally:
        scheduler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await scheduler
        await jobs.broker.shutdown()
        await db.dispose()
        log.info("worker_stopped")
