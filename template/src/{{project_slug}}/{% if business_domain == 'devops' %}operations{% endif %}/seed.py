"""Demo sources, one per provider, and `size` samples of the last 24 hours across them."""

import math
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.db import utcnow
from .models import MetricSample, MetricSource, Provider

SOURCES = {
    "aws-production": Provider.AWS,
    "gcp-analytics": Provider.GCP,
    "azure-web": Provider.AZURE,
    "prometheus-cluster": Provider.PROMETHEUS,
}
METRICS = ("cpu_utilization", "memory_utilization", "http_requests_per_second")
DAY = timedelta(hours=24)


async def _sources(session: AsyncSession) -> list[MetricSource]:
    """The demo sources (matched by name), created if missing."""
    query = select(MetricSource).where(MetricSource.name.in_(SOURCES))
    existing = {source.name: source for source in await session.scalars(query)}
    for name, provider in SOURCES.items():
        if name not in existing:
            existing[name] = MetricSource(name=name, provider=provider)
            session.add(existing[name])
    await session.flush()
    return [existing[name] for name in SOURCES]


def _series(sources: list[MetricSource], size: int) -> list[dict[str, Any]]:
    """Smooth daily curves (a busy afternoon, a quiet night), spread evenly over 24 hours."""
    now = utcnow()
    rows = []
    for i in range(size):
        source = sources[i % len(sources)]
        metric = METRICS[(i // len(sources)) % len(METRICS)]
        ts = now - DAY + DAY * (i / max(size, 1))
        phase = 2 * math.pi * (i / max(size, 1))
        value = round(50 + 30 * math.sin(phase) + (i % 7), 3)
        labels = {"region": "eu-west-1" if i % 2 else "us-east-1", "host": f"node-{i % 5}"}
        rows.append(
            {"source_id": source.id, "metric": metric, "value": value, "ts": ts, "labels": labels}
        )
    return rows


async def seed(session: AsyncSession, size: int) -> str:
    """Sources every run; samples only when the demo sources have none yet (bulk insert)."""
    sources = await _sources(session)
    present = await session.scalar(
        select(func.count())
        .select_from(MetricSample)
        .where(MetricSample.source_id.in_([s.id for s in sources]))
    )
    rows = [] if present else _series(sources, size)
    if rows:
        await session.execute(insert(MetricSample), rows)
    await session.commit()
    return f"metric sources: {len(sources)}, {len(rows)} samples created"
