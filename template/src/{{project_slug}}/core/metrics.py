"""Prometheus metrics that stay correct with several worker processes.

With `PROMETHEUS_MULTIPROC_DIR` set (the `serve` command sets it), each process writes its
samples to files there and `/metrics` aggregates all of them, so a scrape that lands on any
worker sees the whole instance.

Besides request, event and job counts, the alert rules in infra/monitoring need two kinds of
saturation signal:
- queue lag: how many event-log entries wait for the outbox dispatcher (and how old the
  oldest is), and how many jobs wait in the Redis stream. Both are shared state, so they are
  read once per scrape, from the database and Redis, rather than counted in every process;
- database pool use: connections checked out against the pool's limit, counted per process
  from SQLAlchemy's pool events and summed over the live processes of an instance.
"""

import asyncio
import os
from datetime import datetime
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy import event, func, select
from sqlalchemy.pool import ConnectionPoolEntry, Pool

from .config import get_settings
from .db import Database, utcnow

log = structlog.get_logger(__name__)

REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests by method, route and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by method and route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0),
)
EVENTS_PUBLISHED = Counter("outbox_events_published_total", "Event-log entries delivered", ["type"])
JOBS = Counter("jobs_total", "Background jobs finished, by task and outcome", ["task", "outcome"])
# Shared state read at scrape time: the latest reading wins, whichever process took it.
OUTBOX_BACKLOG = Gauge(
    "outbox_backlog_events",
    "Event-log entries committed but not yet delivered by the outbox dispatcher",
    multiprocess_mode="mostrecent",
)
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_pending_age_seconds",
    "Age of the oldest undelivered event-log entry (0 when none waits)",
    multiprocess_mode="mostrecent",
)
JOB_QUEUE_BACKLOG = Gauge(
    "job_queue_backlog",
    "Jobs in the Redis stream: waiting for a worker, or delivered and not yet acknowledged",
    ["state"],
    multiprocess_mode="mostrecent",
)
# Per process, summed over the processes alive on the instance.
DB_POOL_IN_USE = Gauge(
    "db_pool_connections_in_use",
    "Database connections checked out of the pool",
    multiprocess_mode="livesum",
)
DB_POOL_LIMIT = Gauge(
    "db_pool_connections_limit",
    "Most connections the pool may hold at once (DB_POOL_SIZE + DB_MAX_OVERFLOW)",
    multiprocess_mode="livesum",
)
SCRAPE_READ_TIMEOUT_SECONDS = 2.0

router = APIRouter(tags=["operations"])


def registry() -> CollectorRegistry:
    """All processes' samples in multiprocess mode; this process's otherwise."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        aggregate = CollectorRegistry()
        multiprocess.MultiProcessCollector(aggregate)  # type: ignore[no-untyped-call]
        return aggregate
    return REGISTRY


_COUNTED_OUT = "metrics_counted_out"


def _checked_out(_dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    if record.record_info is not None:  # None only for a detached connection, never checked in
        record.record_info[_COUNTED_OUT] = True
        DB_POOL_IN_USE.inc()


def _checked_in(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    """Count back only what was counted out.

    SQLAlchemy also checks a connection in when its checkout failed before the checkout event
    (a failed pre-ping, a task cancelled mid-checkout); decrementing then would drift the
    gauge below zero.
    """
    if record.record_info is not None and record.record_info.pop(_COUNTED_OUT, False):
        DB_POOL_IN_USE.dec()


def _connected(_dbapi_connection: Any, _record: Any) -> None:
    """A process's pools are sized from its settings (see `db.create_engine_for`)."""
    settings = get_settings()
    DB_POOL_LIMIT.set(settings.db_pool_size + settings.db_max_overflow)


# Listening on the Pool class covers every engine this process creates, without the database
# module having to know about metrics.
event.listen(Pool, "checkout", _checked_out)
event.listen(Pool, "checkin", _checked_in)
event.listen(Pool, "first_connect", _connected)


async def read_outbox_backlog(db: Database) -> None:
    """Count undelivered event-log entries and the age of the oldest one."""
    from .outbox import OutboxEvent  # the outbox counts its deliveries with this module

    async with db.sessions() as session:
        row = (
            await session.execute(
                select(func.count(), func.min(OutboxEvent.created_at)).where(
                    OutboxEvent.published_at.is_(None)
                )
            )
        ).one()
    count, oldest = int(row[0]), row[1]
    OUTBOX_BACKLOG.set(count)
    OUTBOX_OLDEST_AGE.set(_age_seconds(oldest))


def _age_seconds(oldest: datetime | None) -> float:
    return 0.0 if oldest is None else max((utcnow() - oldest).total_seconds(), 0.0)


async def read_job_queue_backlog(redis: Redis, stream: str) -> None:
    """Jobs the workers' consumer groups have not read yet (lag) or not acknowledged (pending)."""
    try:
        groups: list[dict[str, Any]] = await redis.xinfo_groups(stream)
    except ResponseError:  # no job was ever queued: the stream does not exist yet
        groups = []
    waiting = sum(int(group.get("lag") or 0) for group in groups)
    pending = sum(int(group.get("pending") or 0) for group in groups)
    JOB_QUEUE_BACKLOG.labels("waiting").set(waiting)
    JOB_QUEUE_BACKLOG.labels("unacknowledged").set(pending)


async def read_backlogs(request: Request) -> None:
    """Refresh the queue-lag gauges; a slow or failing store costs a log line, not the scrape."""
    state = request.app.state
    readings = [read_outbox_backlog(state.db)]
    if state.redis is not None:
        stream = f"{state.settings.redis_prefix}:jobs"  # the queue name jobs.build_broker uses
        readings.append(read_job_queue_backlog(state.redis, stream))
    for reading in readings:
        try:
            async with asyncio.timeout(SCRAPE_READ_TIMEOUT_SECONDS):
                await reading
        except Exception as exc:
            log.warning("metrics_backlog_unavailable", error=type(exc).__name__)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text exposition of request, event, job, queue-lag and pool metrics."""
    await read_backlogs(request)
    return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)
