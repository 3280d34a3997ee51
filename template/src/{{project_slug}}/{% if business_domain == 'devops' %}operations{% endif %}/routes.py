"""HTTP API of operations: /api/v1/sources and their samples."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ..core.deps import AdminUser, CurrentUser, SessionDep
from . import events, service  # noqa: F401  (importing events registers its topic rules)
from .schemas import IngestOut, MetricName, SampleOut, SamplesIn, SourceIn, SourceOut, Timestamp

router = APIRouter(prefix="/api/v1", tags=["metrics"])


@router.post("/sources", status_code=status.HTTP_201_CREATED)
async def create_source(body: SourceIn, _admin: AdminUser, session: SessionDep) -> SourceOut:
    """Register a metric source (admins only). 409 if the name is taken."""
    source = await service.create_source(session, body.name, body.provider)
    return SourceOut.model_validate(source)


@router.get("/sources")
async def list_sources(_user: CurrentUser, session: SessionDep) -> list[SourceOut]:
    """Every metric source, by name."""
    return [SourceOut.model_validate(s) for s in await service.list_sources(session)]


@router.post("/sources/{source_id}/samples", status_code=status.HTTP_201_CREATED)
async def ingest_samples(
    source_id: uuid.UUID, body: SamplesIn, _user: CurrentUser, session: SessionDep
) -> IngestOut:
    """Store a batch of 1 to 1,000 samples of a source; live charts get its latest values."""
    count = await service.ingest(session, source_id, body.samples)
    return IngestOut(source_id=source_id, count=count)


@router.get("/sources/{source_id}/samples")
async def read_samples(
    source_id: uuid.UUID,
    _user: CurrentUser,
    session: SessionDep,
    metric: Annotated[MetricName | None, Query(description="Only this metric")] = None,
    since: Annotated[Timestamp | None, Query(description="Only samples after this")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[SampleOut]:
    """A source's samples in time order (read on with the last `ts` as `since`)."""
    samples = await service.read_samples(
        session, source_id, metric=metric, since=since, limit=limit
    )
    return [SampleOut.model_validate(s) for s in samples]
