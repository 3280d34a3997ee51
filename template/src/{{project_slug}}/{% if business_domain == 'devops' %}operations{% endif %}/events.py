"""Event-log topics and payloads of operations, and who may stream them.

- `sources`: a metric source was added (`source.created`).
- `metrics:<source id>`: a batch of samples was stored (`metrics.ingested`), with the latest
  value of each metric in it, enough for a live chart or a status tile.

Any authenticated user may stream both: the dashboard is shared by the whole team.
"""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..core.auth.models import User
from ..core.stream import topic_rule
from .models import MetricSource
from .schemas import SampleIn

SOURCES = "sources"
METRICS_PREFIX = "metrics:"
SOURCE_CREATED = "source.created"
METRICS_INGESTED = "metrics.ingested"


def metrics_topic(source_id: uuid.UUID) -> str:
    return f"{METRICS_PREFIX}{source_id}"


def source_created(source: MetricSource) -> dict[str, Any]:
    return {"source_id": source.id, "name": source.name, "provider": source.provider.value}


def metrics_ingested(source_id: uuid.UUID, samples: list[SampleIn]) -> dict[str, Any]:
    """The batch's size and, per metric, its most recent sample (by `ts`)."""
    latest: dict[str, SampleIn] = {}
    for sample in samples:
        current = latest.get(sample.metric)
        if current is None or sample.ts >= current.ts:
            latest[sample.metric] = sample
    return {
        "source_id": source_id,
        "count": len(samples),
        "latest": {
            name: {"value": sample.value, "ts": sample.ts} for name, sample in latest.items()
        },
    }


@topic_rule(SOURCES)
async def _signed_in_reads_sources(_session: AsyncSession, _user: User, topic: str) -> bool:
    return topic == SOURCES


@topic_rule(METRICS_PREFIX)
async def _signed_in_reads_metrics(_session: AsyncSession, _user: User, _topic: str) -> bool:
    return True
