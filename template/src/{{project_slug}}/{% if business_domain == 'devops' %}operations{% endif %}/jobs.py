"""Background work of operations: keeping the samples table to its retention period."""

from datetime import timedelta

from ..core.db import utcnow
from ..core.jobs import broker, database
from . import service

SAMPLE_RETENTION_DAYS = 30


@broker.task(task_name="operations.apply_sample_retention", schedule=[{"cron": "23 2 * * *"}])
async def apply_sample_retention() -> int:
    """Daily: delete samples older than 30 days, so storage (and cost) stays flat.

    Dashboards show at most the last month; older data belongs in cheaper long-term storage.
    Idempotent: a rerun only finds what is still too old.
    """
    cutoff = utcnow() - timedelta(days=SAMPLE_RETENTION_DAYS)
    async with database().sessions() as session:
        return await service.purge_samples(session, cutoff)
