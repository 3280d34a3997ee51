"""Event-log topics and payloads of the catalog, and who may stream them.

- `catalog`: products appear (`product.created`), change (`product.updated`), go away
  (`product.deleted`) or sell out (`product.sold_out`).
- `inventory:<product id>`: every stock change (`inventory.updated`), for live stock badges.

Both are readable by any authenticated user: they carry nothing a shop window does not show.
"""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..core.auth.models import User
from ..core.stream import topic_rule
from .models import Product

CATALOG = "catalog"
INVENTORY_PREFIX = "inventory:"
PRODUCT_CREATED = "product.created"
PRODUCT_UPDATED = "product.updated"
PRODUCT_DELETED = "product.deleted"
PRODUCT_SOLD_OUT = "product.sold_out"
INVENTORY_UPDATED = "inventory.updated"


def inventory_topic(product_id: uuid.UUID) -> str:
    return f"{INVENTORY_PREFIX}{product_id}"


def product_state(product: Product) -> dict[str, Any]:
    """A product as `product.created` and `product.updated` announce it."""
    return {
        "product_id": product.id,
        "sku": product.sku,
        "name": product.name,
        "price_minor": product.price_minor,
        "currency": product.currency,
        "stock": product.stock,
        "active": product.active,
        "category_id": product.category_id,
    }


def inventory_updated(product: Product, delta: int, reason: str) -> dict[str, Any]:
    return {
        "product_id": product.id,
        "sku": product.sku,
        "stock": product.stock,
        "delta": delta,
        "reason": reason,
    }


@topic_rule(CATALOG)
async def _signed_in_reads_catalog(_session: AsyncSession, _user: User, topic: str) -> bool:
    return topic == CATALOG


@topic_rule(INVENTORY_PREFIX)
async def _signed_in_reads_inventory(_session: AsyncSession, _user: User, _topic: str) -> bool:
    return True
