"""Request and response bodies of the catalog API."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ..core.schemas import Input
from .models import MAX_PRICE_MINOR, MAX_STOCK

# SKUs are stored (and compared) in upper case, so "ab-1" and "AB-1" cannot both exist.
SKU_PATTERN = r"^[A-Z0-9][A-Z0-9._-]{0,63}$"
Sku = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
    ),
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ProductIn(Input):
    """A new product. `price_minor` is in the currency's minor unit (e.g. cents)."""

    sku: Sku
    name: Name
    description: Annotated[str, Field(max_length=5000)] = ""
    price_minor: Annotated[int, Field(ge=0, le=MAX_PRICE_MINOR)]
    currency: Annotated[Currency, Field(description="ISO 4217 code, upper case (EUR, USD)")]
    stock: Annotated[int, Field(ge=0, le=MAX_STOCK)] = 0
    active: bool = True


class StockAdjustmentIn(Input):
    """A change to the stock: positive for goods received, negative for goods gone."""

    delta: Annotated[int, Field(ge=-MAX_STOCK, le=MAX_STOCK)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

    @field_validator("delta")
    @classmethod
    def _changes_something(cls, value: int) -> int:
        if value == 0:
            raise ValueError("delta must not be 0: an adjustment changes the stock")
        return value


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sku: str
    name: str
    description: str
    price_minor: int
    currency: str
    stock: int
    active: bool
    sold_out_at: datetime | None
    created_at: datetime


class ProductPage(BaseModel):
    """One page of products by SKU; pass `next_cursor` as `cursor` for the next page."""

    items: list[ProductOut]
    next_cursor: str | None
