"""Prometheus metrics that stay correct with several worker processes.

With `PROMETHEUS_MULTIPROC_DIR` set (the `serve` command sets it), each process writes its
samples to files there and `/metrics` aggregates all of them, so a scrape that lands on any
worker sees the whole instance.
"""

import os

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

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

router = APIRouter(tags=["operations"])


def registry() -> CollectorRegistry:
    """All processes' samples in multiprocess mode; this process's otherwise."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        aggregate = CollectorRegistry()
        multiprocess.MultiProcessCollector(aggregate)  # type: ignore[no-untyped-call]
        return aggregate
    return REGISTRY


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus text exposition of request, event and job metrics."""
    return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)
