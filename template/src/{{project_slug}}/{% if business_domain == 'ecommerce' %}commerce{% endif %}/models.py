"""Tables of the catalog: categories, and products with their stock level.

The indexes serve the public list: one per sort order (with the id as the tie-breaker that
keyset pagination needs), each led by `active` because the public only sees active products,
and one per category for the category filter in the default (SKU) order.
"""

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, Timestamped, utcnow

# Upper bounds keep arithmetic far from the 32/64-bit limits of the columns.
MAX_STOCK = 1_000_000_000
MAX_PRICE_MINOR = 100_000_000_000


class Category(Timestamped, Base):
    """A shelf of the catalog, optionally inside a parent category (a tree, never a cycle)."""

    __tablename__ = "categories"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # RESTRICT: a category with subcategories cannot disappear from under them.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True, default=None
    )


class Product(Timestamped, Base):
    """A sellable item. Prices are in minor units (cents) of `currency`, never floats.

    The check constraints make the database itself refuse a negative stock, so no code path
    (or concurrent adjustment) can oversell, whatever the application checks did.
    """

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_non_negative"),
        CheckConstraint("price_minor >= 0", name="price_non_negative"),
        Index("ix_products_active_sku", "active", "sku"),
        Index("ix_products_active_price", "active", "price_minor", "id"),
        Index("ix_products_active_created", "active", "created_at", "id"),
        Index("ix_products_category_sku", "category_id", "active", "sku"),
        Index("ix_products_category_price", "category_id", "active", "price_minor", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    # RESTRICT: deleting a category that still holds products is refused (409), not cascaded.
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), default=None
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Set by the sold-out job when the stock reaches 0, cleared when stock comes back; it
    # also makes that job idempotent (it announces a sell-out only once).
    sold_out_at: Mapped[datetime | None] = mapped_column(default=None)
