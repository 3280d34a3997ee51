"""Tables of the catalog: one row per product, with its stock level."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, Timestamped

# Upper bounds keep arithmetic far from the 32/64-bit limits of the columns.
MAX_STOCK = 1_000_000_000
MAX_PRICE_MINOR = 100_000_000_000


class Product(Timestamped, Base):
    """A sellable item. Prices are in minor units (cents) of `currency`, never floats.

    The check constraints make the database itself refuse a negative stock, so no code path
    (or concurrent adjustment) can oversell, whatever the application checks did.
    """

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_non_negative"),
        CheckConstraint("price_minor >= 0", name="price_non_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # Set by the sold-out job when the stock reaches 0, cleared when stock comes back; it
    # also makes that job idempotent (it announces a sell-out only once).
    sold_out_at: Mapped[datetime | None] = mapped_column(default=None)
