"""Request and response bodies of the metrics API."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from ..core.schemas import Input
from .models import Provider

MAX_BATCH = 1000

SourceName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")
]
# Names as the providers write them: Prometheus (`node_cpu_seconds_total`), CloudWatch
# (`CPUUtilization`), Cloud Monitoring (`compute.googleapis.com/instance/cpu/utilization`).
MetricName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_:][A-Za-z0-9_:./-]{0,199}$")]
LabelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")]
LabelValue = Annotated[str, StringConstraints(max_length=500)]


def _in_utc(value: datetime) -> datetime:
    """Store and compare in UTC: SQLite keeps no zone, so mixed offsets would misorder."""
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:00-05:00 is past the last UTC date
        raise ValueError("timestamp is out of range") from exc


Timestamp = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class SourceIn(Input):
    name: SourceName
    provider: Provider


class SourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    provider: Provider
    created_at: datetime


class SampleIn(Input):
    """One measurement; `ts` must carry a time zone, so no clock is guessed."""

    metric: MetricName
    value: Annotated[float, Field(allow_inf_nan=False)]
    ts: Timestamp
    labels: Annotated[dict[LabelName, LabelValue], Field(max_length=32, default_factory=dict)]


class SamplesIn(Input):
    samples: Annotated[list[SampleIn], Field(min_length=1, max_length=MAX_BATCH)]


class IngestOut(BaseModel):
    source_id: uuid.UUID
    count: int


class SampleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    metric: str
    value: float
    ts: datetime
    labels: dict[str, str]
