"""Demo catalog: a small category tree and `size` products with SKUs DEMO-000001 and up.

Big enough for load tests: on PostgreSQL 100,000 products go in with COPY (asyncpg's
`copy_records_to_table`, binary, a few thousand rows per call), elsewhere as executemany
INSERTs; all in one transaction, so a failure never leaves half a catalog, and a rerun only
adds what is missing.
"""

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.db import utcnow
from .cache import catalog_changed
from .models import Category, Product

PREFIX = "DEMO-"
CURRENCIES = ("EUR", "USD", "GBP")
BATCH = 5000
# (slug, name, parent slug): parents first.
CATEGORIES = (
    ("home", "Home", None),
    ("kitchen", "Kitchen", "home"),
    ("decor", "Decor", "home"),
    ("apparel", "Apparel", None),
    ("tops", "Tops", "apparel"),
    ("headwear", "Headwear", "apparel"),
    ("stationery", "Stationery", None),
    ("notebooks", "Notebooks", "stationery"),
    ("stickers", "Stickers", "stationery"),
    ("outdoor", "Outdoor", None),
    ("bottles", "Bottles", "outdoor"),
)
# (kind, category slug)
KINDS = (
    ("Mug", "kitchen"),
    ("T-shirt", "tops"),
    ("Notebook", "notebooks"),
    ("Sticker pack", "stickers"),
    ("Water bottle", "bottles"),
    ("Hoodie", "tops"),
    ("Cap", "headwear"),
    ("Candle", "decor"),
)


def demo_sku(number: int) -> str:
    return f"{PREFIX}{number:06d}"


def _demo_product(number: int, category_ids: dict[str, uuid.UUID], now: datetime) -> dict[str, Any]:
    """Deterministic, varied values (prices, stock, some inactive or sold-out items).

    Creation times step back one second per number, so "newest" lists DEMO-000001 first.
    """
    kind, category = KINDS[number % len(KINDS)]
    created = now - timedelta(seconds=number)
    return {
        "id": uuid.uuid4(),
        "sku": demo_sku(number),
        "name": f"{kind} #{number}",
        "description": f"Demo {kind.lower()} number {number}.",
        "price_minor": 199 + (number * 7919) % 20_000,
        "currency": CURRENCIES[number % len(CURRENCIES)],
        "stock": (number * 31) % 250,
        "active": number % 17 != 0,
        "images": [f"https://img.example.com/demo/{number:06d}.jpg"],
        "category_id": category_ids[category],
        "created_at": created,
        "updated_at": created,
    }


async def _seed_categories(session: AsyncSession) -> tuple[dict[str, uuid.UUID], int]:
    """The demo categories' ids by slug, creating the missing ones; and how many it created."""
    rows = await session.execute(select(Category.slug, Category.id))
    ids: dict[str, uuid.UUID] = {slug: category_id for slug, category_id in rows}
    created = 0
    for slug, name, parent in CATEGORIES:
        if slug not in ids:
            category = Category(
                slug=slug, name=name, parent_id=None if parent is None else ids[parent]
            )
            session.add(category)
            await session.flush()
            ids[slug] = category.id
            created += 1
    return ids, created


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert product rows in bulk: COPY on PostgreSQL (several times faster than INSERT)."""
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        await session.execute(insert(Product), rows)
        return
    columns = list(rows[0])
    records = [
        tuple(json.dumps(row[c]) if c == "images" else row[c] for c in columns) for row in rows
    ]
    raw = await connection.get_raw_connection()
    # The asyncpg connection under SQLAlchemy's adapter, inside the session's transaction.
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(Product.__tablename__, records=records, columns=columns)


async def seed(session: AsyncSession, size: int) -> str:
    """Insert the demo categories and products that are missing; safe to run again.

    Seeded products are not announced on the event log: they are data, not business events.
    The read cache is invalidated afterwards, so the catalog shows them at once.
    """
    category_ids, categories_created = await _seed_categories(session)
    existing = set(await session.scalars(select(Product.sku).where(Product.sku.startswith(PREFIX))))
    now = utcnow()
    missing = [number for number in range(1, size + 1) if demo_sku(number) not in existing]
    for start in range(0, len(missing), BATCH):
        rows = [_demo_product(n, category_ids, now) for n in missing[start : start + BATCH]]
        await _insert(session, rows)
    await session.commit()
    await catalog_changed(session)
    return (
        f"categories: {categories_created} created, {len(CATEGORIES) - categories_created} "
        f"already present\nproducts: {len(missing)} created, {size - len(missing)} already present"
    )
