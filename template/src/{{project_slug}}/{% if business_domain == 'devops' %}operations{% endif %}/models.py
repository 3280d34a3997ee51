"""Tables of operations: where metrics come from, and the samples themselves."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Double, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, BigIntPK, Timestamped


class Provider(enum.StrEnum):
    """Where a source's metrics come from; collectors differ per provider."""

    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"
    PROMETHEUS = "prometheus"


class MetricSource(Timestamped, Base):
    """One origin of metrics, e.g. an AWS account or a Prometheus server."""

    __tablename__ = "metric_sources"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    provider: Mapped[Provider] = mapped_column(
        Enum(Provider, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )


class MetricSample(Base):
    """One measurement. Ids are a 64-bit sequence: samples arrive by the thousand a second.

    Charts read one source's metric over a time range, hence the (source, metric, ts) index;
    the retention job deletes by age, hence the index on `ts`.
    """

    __tablename__ = "metric_samples"
    __table_args__ = (Index("ix_metric_samples_source_id_metric_ts", "source_id", "metric", "ts"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("metric_sources.id", ondelete="CASCADE")
    )
    metric: Mapped[str] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Double)
    ts: Mapped[datetime] = mapped_column(index=True)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
