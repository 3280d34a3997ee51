"""Metrics rules: registering sources, ingesting batches, reading series, retention.

Writes commit once, together with the event they append, so a live chart never shows a
value that was not stored.
"""

import uuid
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.errors import Conflict, NotFound
from ..core.outbox import append_event
from . import events
from .models import MetricSample, MetricSource, Provider
from .schemas import SampleIn

RETENTION_BATCH = 10_000


async def create_source(session: AsyncSession, name: str, provider: Provider) -> MetricSource:
    """Register a source; 409 when the name is taken (the unique index decides, race-free)."""
    source = MetricSource(name=name, provider=provider)
    session.add(source)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(f"A metric source named {name!r} already exists") from exc
    append_event(session, events.SOURCES, events.SOURCE_CREATED, events.source_created(source))
    await session.commit()
    return source


async def list_sources(session: AsyncSession) -> list[MetricSource]:
    return list(await session.scalars(select(MetricSource).order_by(MetricSource.name)))


async def _source(session: AsyncSession, source_id: uuid.UUID) -> MetricSource:
    source = await session.get(MetricSource, source_id)
    if source is None:
        raise NotFound("No metric source with this id")
    return source


async def ingest(session: AsyncSession, source_id: uuid.UUID, samples: list[SampleIn]) -> int:
    """Store a batch in one multi-row INSERT and announce it; returns the number stored."""
    await _source(session, source_id)
    rows = [
        {
            "source_id": source_id,
            "metric": sample.metric,
            "value": sample.value,
            "ts": sample.ts,
            "labels": sample.labels,
        }
        for sample in samples
    ]
    await session.execute(insert(MetricSample).values(rows))
    append_event(
        session,
        events.metrics_topic(source_id),
        events.METRICS_INGESTED,
        events.metrics_ingested(source_id, samples),
    )
    await session.commit()
    return len(rows)


async def read_samples(
    session: AsyncSession,
    source_id: uuid.UUID,
    *,
    metric: str | None,
    since: datetime | None,
    limit: int,
) -> list[MetricSample]:
    """Samples of a source in time order, after `since` (exclusive), for charts.

    To read on, pass the `ts` of the last sample as the next `since`.
    """
    await _source(session, source_id)
    query = (
        select(MetricSample)
        .where(MetricSample.source_id == source_id)
        .order_by(MetricSample.ts, MetricSample.id)
        .limit(limit)
    )
    if metric is not None:
        query = query.where(MetricSample.metric == metric)
    if since is not None:
        query = query.where(MetricSample.ts > since)
    return list(await session.scalars(query))


async def purge_samples(session: AsyncSession, older_than: datetime) -> int:
    """Delete samples measured before `older_than`, a batch per transaction.

    Small batches keep each transaction (and its locks) short, so ingestion goes on while a
    large backlog is removed. Returns how many samples were deleted.
    """
    deleted = 0
    while True:
        batch = select(MetricSample.id).where(MetricSample.ts < older_than).limit(RETENTION_BATCH)
        result = await session.execute(
            delete(MetricSample)
            .where(MetricSample.id.in_(batch.scalar_subquery()))
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        count = int(getattr(result, "rowcount", 0) or 0)
        deleted += count
        if count < RETENTION_BATCH:
            return deleted
