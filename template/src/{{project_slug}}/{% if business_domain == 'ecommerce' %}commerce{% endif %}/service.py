"""Catalog rules: listing, creating products and adjusting their stock.

Each operation commits once, together with the event it appends, so the event log never
announces a change that did not happen (nor misses one that did).
"""

import uuid

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.db import utcnow
from ..core.errors import Conflict, NotFound
from ..core.outbox import append_event
from . import events
from .models import MAX_STOCK, Product
from .schemas import ProductIn


async def list_products(
    session: AsyncSession, *, cursor: str | None, limit: int, active: bool | None
) -> tuple[list[Product], str | None]:
    """A page of products in SKU order after `cursor`, and the cursor of the next page.

    Keyset pagination: each page is one index range scan, however deep the client pages.
    """
    query = select(Product).order_by(Product.sku).limit(limit + 1)
    if cursor is not None:
        query = query.where(Product.sku > cursor)
    if active is not None:
        query = query.where(Product.active == active)
    rows = list(await session.scalars(query))
    page = rows[:limit]
    return page, (page[-1].sku if len(rows) > limit else None)


async def get_product(session: AsyncSession, product_id: uuid.UUID) -> Product:
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound("No product with this id")
    return product


async def create_product(session: AsyncSession, data: ProductIn) -> Product:
    """Add a product; 409 when its SKU is taken (the unique index decides, race-free)."""
    product = Product(**data.model_dump())
    session.add(product)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(f"A product with SKU {data.sku!r} already exists") from exc
    append_event(session, events.CATALOG, events.PRODUCT_CREATED, events.product_created(product))
    await session.commit()
    return product


async def adjust_stock(
    session: AsyncSession, product_id: uuid.UUID, delta: int, reason: str
) -> Product:
    """Change the stock by `delta` in one conditional UPDATE.

    The database checks the bounds and applies the change in a single statement, so two
    concurrent sales of the last item cannot both succeed: the second one matches no row.
    """
    new_stock = Product.stock + delta
    statement = (
        update(Product)
        .where(Product.id == product_id, new_stock >= 0, new_stock <= MAX_STOCK)
        .values(
            stock=new_stock,
            sold_out_at=case((new_stock > 0, None), else_=Product.sold_out_at),
        )
        .returning(Product)
        .execution_options(synchronize_session=False)
    )
    product = (await session.scalars(statement)).one_or_none()
    if product is None:
        raise await _refusal(session, product_id, delta)
    append_event(
        session,
        events.inventory_topic(product.id),
        events.INVENTORY_UPDATED,
        events.inventory_updated(product, delta, reason),
    )
    await session.commit()
    return product


async def _refusal(session: AsyncSession, product_id: uuid.UUID, delta: int) -> NotFound | Conflict:
    """Why an adjustment matched no row: an unknown product, or a stock out of bounds."""
    product = await get_product(session, product_id)
    if product.stock + delta < 0:
        return Conflict(
            f"Not enough stock: {product.sku} has {product.stock} in stock, "
            f"so {-delta} cannot be removed; stock never goes below 0"
        )
    return Conflict(f"Stock of {product.sku} would exceed the maximum of {MAX_STOCK}")


async def mark_sold_out(session: AsyncSession, product_id: uuid.UUID) -> bool:
    """Record and announce that a product sold out, once per sell-out.

    Only a product that is still at 0 and not yet marked qualifies, so a redelivered event,
    or one that arrives after a restock, changes nothing. Returns whether it announced.
    """
    statement = (
        update(Product)
        .where(Product.id == product_id, Product.stock == 0, Product.sold_out_at.is_(None))
        .values(sold_out_at=utcnow())
        .returning(Product.sku, Product.sold_out_at)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        return False
    payload = {"product_id": product_id, "sku": row.sku, "sold_out_at": row.sold_out_at}
    append_event(session, events.CATALOG, events.PRODUCT_SOLD_OUT, payload)
    await session.commit()
    return True
