"""Request and response bodies of the catalog API."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from ..core.schemas import Input
from .models import MAX_PRICE_MINOR, MAX_STOCK

# SKUs are stored (and compared) in upper case, so "ab-1" and "AB-1" cannot both exist.
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
Sku = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=SKU_PATTERN)]
# Slugs are URL path segments: lower-case words joined by hyphens.
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# Bodies may use any case (the pattern is checked before lower-casing); paths use the stored form.
Slug = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=64,
        pattern=r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$",
    ),
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]
Price = Annotated[int, Field(ge=0, le=MAX_PRICE_MINOR)]
# Image URLs are links the storefront renders: http(s) only, so no `javascript:` or `data:`.
ImageUrl = Annotated[AnyHttpUrl, Field(description="http(s) URL of an image")]
Images = Annotated[list[ImageUrl], Field(max_length=20)]
MAX_URL_LENGTH = 2000


def _urls(images: list[AnyHttpUrl]) -> list[AnyHttpUrl]:
    """Refuse very long URLs (the whole list is stored as JSON with the product)."""
    if any(len(str(url)) > MAX_URL_LENGTH for url in images):
        raise ValueError(f"an image URL is longer than {MAX_URL_LENGTH} characters")
    return images


class ProductSort(StrEnum):
    """Orders of the product list; each one pages with its own keyset cursor."""

    SKU = "sku"
    PRICE = "price"
    PRICE_DESC = "-price"
    NEWEST = "newest"


class ProductIn(Input):
    """A new product. `price_minor` is in the currency's minor unit (e.g. cents)."""

    sku: Sku
    name: Name
    description: Description = ""
    price_minor: Price
    currency: Annotated[Currency, Field(description="ISO 4217 code, upper case (EUR, USD)")]
    stock: Annotated[int, Field(ge=0, le=MAX_STOCK)] = 0
    active: bool = True
    images: Annotated[Images, Field(default_factory=list)]
    category: Annotated[Slug | None, Field(description="Slug of the product's category")] = None

    @field_validator("images")
    @classmethod
    def _short_urls(cls, images: list[AnyHttpUrl]) -> list[AnyHttpUrl]:
        return _urls(images)


class ProductPatch(Input):
    """Fields to change on a product; the ones left out keep their value.

    The stock is not among them: it changes through stock adjustments only, which are atomic
    and carry a reason. Setting `category` to null takes the product out of its category.
    """

    sku: Sku | None = None
    name: Name | None = None
    description: Description | None = None
    price_minor: Price | None = None
    currency: Currency | None = None
    active: bool | None = None
    images: Images | None = None
    category: Slug | None = None

    @field_validator("images")
    @classmethod
    def _short_urls(cls, images: list[AnyHttpUrl] | None) -> list[AnyHttpUrl] | None:
        return None if images is None else _urls(images)

    @model_validator(mode="after")
    def _no_nulls_but_category(self) -> "ProductPatch":
        nullable = {"category"}
        for field in self.model_fields_set - nullable:
            if getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null; leave it out to keep its value")
        return self


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


class CategoryIn(Input):
    slug: Slug
    name: Name
    parent: Annotated[Slug | None, Field(description="Slug of the parent category")] = None


class CategoryPatch(Input):
    """Fields to change on a category; `parent: null` makes it a top-level category."""

    slug: Slug | None = None
    name: Name | None = None
    parent: Slug | None = None

    @model_validator(mode="after")
    def _no_nulls_but_parent(self) -> "CategoryPatch":
        for field in self.model_fields_set - {"parent"}:
            if getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null; leave it out to keep its value")
        return self


class CategoryOut(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    parent: str | None = Field(description="Slug of the parent category")
    created_at: datetime


class ProductSummary(BaseModel):
    """A product as the list shows it: without the stock, which changes with every sale.

    Leaving the stock out keeps cached pages valid through checkouts; the detail (and the
    `inventory:<id>` event topic) carries the live figure.
    """

    id: uuid.UUID
    sku: str
    name: str
    description: str
    price_minor: int
    currency: str
    active: bool
    images: list[str]
    category: str | None = Field(description="Slug of the product's category")
    created_at: datetime


class ProductOut(ProductSummary):
    """A product with its stock level (and when it last sold out, if it is sold out)."""

    stock: int
    sold_out_at: datetime | None
    updated_at: datetime


class ProductPage(BaseModel):
    """One page of products; pass `next_cursor` as `cursor` (same sort) for the next page."""

    items: list[ProductSummary]
    next_cursor: str | None


class AdminProductPage(BaseModel):
    """A page of the admin list: every field, the stock included."""

    items: list[ProductOut]
    next_cursor: str | None


class CategoryList(BaseModel):
    items: list[CategoryOut]
