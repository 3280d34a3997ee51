"""Demo catalog: `size` products with SKUs DEMO-000001 and up, for trying the API and load tests."""

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Product

PREFIX = "DEMO-"
CURRENCIES = ("EUR", "USD", "GBP")
KINDS = ("Mug", "T-shirt", "Notebook", "Sticker pack", "Water bottle", "Hoodie", "Cap")


def _demo_product(number: int) -> dict[str, Any]:
    """Deterministic, varied values (prices, stock, some inactive or sold-out items)."""
    kind = KINDS[number % len(KINDS)]
    return {
        "sku": f"{PREFIX}{number:06d}",
        "name": f"{kind} #{number}",
        "description": f"Demo {kind.lower()} number {number}.",
        "price_minor": 199 + (number * 7919) % 20_000,
        "currency": CURRENCIES[number % len(CURRENCIES)],
        "stock": (number * 31) % 250,
        "active": number % 17 != 0,
    }


async def seed(session: AsyncSession, size: int) -> str:
    """Insert the demo products that are missing (bulk, one statement); safe to run again.

    Seeded products are not announced on the event log: they are data, not business events.
    """
    existing = set(await session.scalars(select(Product.sku).where(Product.sku.startswith(PREFIX))))
    rows = [
        _demo_product(number)
        for number in range(1, size + 1)
        if f"{PREFIX}{number:06d}" not in existing
    ]
    if rows:
        await session.execute(insert(Product), rows)
    await session.commit()
    return f"products: {len(rows)} created, {size - len(rows)} already present"
