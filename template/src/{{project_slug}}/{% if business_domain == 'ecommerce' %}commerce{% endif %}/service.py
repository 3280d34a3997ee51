"""Catalog rules: categories, products, their listing, and stock adjustments.

Each write commits once, together with the event it appends and its audit entry, so the
event log and the audit trail never record a change that did not happen (nor miss one that
did). After the commit it invalidates the read cache (`cache.py`).
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, delete, func, literal, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Executable

from ..core import audit
from ..core.auth.models import User
from ..core.db import utcnow
from ..core.errors import Conflict, NotFound
from ..core.outbox import append_event
from . import events
from .cache import catalog_changed, invalidate_product
from .cursors import SortKey
from .models import MAX_STOCK, Category, Product
from .schemas import (
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    ProductIn,
    ProductOut,
    ProductPatch,
    ProductSort,
    ProductSummary,
)

PRODUCT = "product"
CATEGORY = "category"


@dataclass(frozen=True)
class ProductFilter:
    """What a product list asks for. `active=None` means active and inactive (admins)."""

    category: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    currency: str | None = None
    q: str | None = None
    active: bool | None = True


def product_snapshot(product: Product) -> dict[str, Any]:
    """The audited state of a product (everything an admin can change, and the stock)."""
    return {
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "price_minor": product.price_minor,
        "currency": product.currency,
        "active": product.active,
        "images": list(product.images),
        "category_id": product.category_id,
        "stock": product.stock,
    }


def _summary_fields(product: Product, category: str | None) -> dict[str, Any]:
    return {
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "price_minor": product.price_minor,
        "currency": product.currency,
        "active": product.active,
        "images": list(product.images),
        "category": category,
        "created_at": product.created_at,
    }


def summary(product: Product, category: str | None) -> ProductSummary:
    return ProductSummary(**_summary_fields(product, category))


def detail(product: Product, category: str | None) -> ProductOut:
    return ProductOut(
        **_summary_fields(product, category),
        stock=product.stock,
        sold_out_at=product.sold_out_at,
        updated_at=product.updated_at,
    )


# --- categories ---------------------------------------------------------------------------


async def category_by_slug(session: AsyncSession, slug: str) -> Category:
    category = await session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        raise NotFound(f"No category with slug {slug!r}")
    return category


async def _category_id(session: AsyncSession, slug: str | None) -> uuid.UUID | None:
    return None if slug is None else (await category_by_slug(session, slug)).id


_PARENT = aliased(Category)


def _categories_query() -> Any:
    """Categories with their parent's slug (an outer self-join)."""
    return select(Category, _PARENT.slug).outerjoin(_PARENT, Category.parent_id == _PARENT.id)


def category_out(category: Category, parent: str | None) -> CategoryOut:
    return CategoryOut(
        id=category.id,
        slug=category.slug,
        name=category.name,
        parent=parent,
        created_at=category.created_at,
    )


async def list_categories(session: AsyncSession) -> list[CategoryOut]:
    rows = await session.execute(_categories_query().order_by(Category.slug))
    return [category_out(category, parent) for category, parent in rows]


async def get_category(session: AsyncSession, slug: str) -> CategoryOut:
    row = (await session.execute(_categories_query().where(Category.slug == slug))).one_or_none()
    if row is None:
        raise NotFound(f"No category with slug {slug!r}")
    category, parent = row
    return category_out(category, parent)


def _category_snapshot(category: Category) -> dict[str, Any]:
    return {"slug": category.slug, "name": category.name, "parent_id": category.parent_id}


async def _commit_catalog_change(
    session: AsyncSession, conflict: str, *statements: Executable
) -> None:
    """Run `statements` and commit, then invalidate the read cache.

    An integrity violation (a SKU or slug taken meanwhile, a row still referenced) becomes a
    409 with `conflict` as its reason, and nothing of the change is kept.
    """
    try:
        for statement in statements:
            await session.execute(statement)
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(conflict) from exc
    await catalog_changed(session)


async def create_category(session: AsyncSession, actor: User, data: CategoryIn) -> CategoryOut:
    """Add a category; 409 if the slug is taken, 404 if the parent does not exist."""
    category = Category(
        slug=data.slug, name=data.name, parent_id=await _category_id(session, data.parent)
    )
    session.add(category)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(f"A category with slug {data.slug!r} already exists") from exc
    audit.record(
        session,
        actor,
        "category.created",
        CATEGORY,
        str(category.id),
        None,
        _category_snapshot(category),
    )
    await _commit_catalog_change(session, f"A category with slug {data.slug!r} already exists")
    return category_out(category, data.parent)


async def _ancestors(session: AsyncSession, category_id: uuid.UUID) -> list[uuid.UUID]:
    """The ids from `category_id` up to its root (the tree is shallow: one query per level)."""
    chain: list[uuid.UUID] = []
    current: uuid.UUID | None = category_id
    while current is not None and current not in chain:
        chain.append(current)
        current = await session.scalar(select(Category.parent_id).where(Category.id == current))
    return chain


async def update_category(
    session: AsyncSession, actor: User, slug: str, patch: CategoryPatch
) -> CategoryOut:
    """Rename, re-slug or move a category; 409 if the slug is taken or the move makes a cycle."""
    category = await category_by_slug(session, slug)
    before = _category_snapshot(category)
    changes = patch.model_dump(exclude_unset=True)
    if "parent" in changes:
        parent_id = await _category_id(session, changes.pop("parent"))
        if parent_id is not None and category.id in await _ancestors(session, parent_id):
            raise Conflict(
                f"{patch.parent!r} is {slug!r} or inside it: a category cannot contain itself"
            )
        category.parent_id = parent_id
    for field, value in changes.items():
        setattr(category, field, value)
    after = _category_snapshot(category)
    if after != before:
        audit.record(session, actor, "category.updated", CATEGORY, str(category.id), before, after)
    await _commit_catalog_change(session, f"A category with slug {category.slug!r} already exists")
    return await get_category(session, category.slug)


async def delete_category(session: AsyncSession, actor: User, slug: str) -> None:
    """Remove an empty category; 409 while products or subcategories are still in it."""
    category = await category_by_slug(session, slug)
    products = await session.scalar(
        select(func.count()).select_from(Product).where(Product.category_id == category.id)
    )
    children = await session.scalar(
        select(func.count()).select_from(Category).where(Category.parent_id == category.id)
    )
    if products or children:
        raise Conflict(
            f"Category {slug!r} still holds {products} product(s) and {children} "
            "subcategory(ies): move or delete them first"
        )
    audit.record(
        session,
        actor,
        "category.deleted",
        CATEGORY,
        str(category.id),
        _category_snapshot(category),
        None,
    )
    await _commit_catalog_change(
        session,
        f"Category {slug!r} is still in use",
        delete(Category).where(Category.id == category.id),
    )


async def _with_descendants(session: AsyncSession, slug: str) -> Select[tuple[uuid.UUID]]:
    """The ids of a category and every category below it (a recursive query)."""
    root = await category_by_slug(session, slug)
    tree = select(Category.id).where(Category.id == root.id).cte("tree", recursive=True)
    tree = tree.union_all(select(Category.id).where(Category.parent_id == tree.c.id))
    return select(tree.c.id)


# --- products -----------------------------------------------------------------------------


def _sort_columns(sort: ProductSort) -> tuple[Any, ...]:
    return {
        ProductSort.SKU: (Product.sku,),
        ProductSort.PRICE: (Product.price_minor, Product.id),
        ProductSort.PRICE_DESC: (Product.price_minor, Product.id),
        ProductSort.NEWEST: (Product.created_at, Product.id),
    }[sort]


def _descending(sort: ProductSort) -> bool:
    return sort in (ProductSort.PRICE_DESC, ProductSort.NEWEST)


def sort_key(product: Product, sort: ProductSort) -> SortKey:
    """The value of `product` that `sort` orders by (the cursor's key)."""
    if sort is ProductSort.SKU:
        return product.sku
    if sort is ProductSort.NEWEST:
        return product.created_at
    return product.price_minor


def _after(sort: ProductSort, key: SortKey, row_id: uuid.UUID) -> Any:
    """Rows strictly after (key, id) in `sort`'s order: one row-value comparison, which an
    index on the sort columns answers with a range scan."""
    columns = _sort_columns(sort)
    values = (key, row_id)[: len(columns)]
    left = tuple_(*columns)
    right = tuple_(*(literal(v, c.type) for v, c in zip(values, columns, strict=True)))
    return left < right if _descending(sort) else left > right


async def list_products(
    session: AsyncSession,
    filters: ProductFilter,
    sort: ProductSort,
    after: tuple[SortKey, uuid.UUID] | None,
    limit: int,
) -> tuple[list[tuple[Product, str | None]], Product | None]:
    """A page of products with their category slug, and the last row if there are more.

    Keyset pagination: each page continues after the previous page's last (sort key, id), so
    deep pages cost what the first does and rows inserted meanwhile are neither repeated nor
    skipped.
    """
    query = (
        select(Product, Category.slug)
        .outerjoin(Category, Product.category_id == Category.id)
        .limit(limit + 1)
    )
    columns = _sort_columns(sort)
    query = query.order_by(*(c.desc() for c in columns) if _descending(sort) else columns)
    if filters.active is not None:
        query = query.where(Product.active.is_(filters.active))
    if filters.category is not None:
        query = query.where(
            Product.category_id.in_(await _with_descendants(session, filters.category))
        )
    if filters.min_price is not None:
        query = query.where(Product.price_minor >= filters.min_price)
    if filters.max_price is not None:
        query = query.where(Product.price_minor <= filters.max_price)
    if filters.currency is not None:
        query = query.where(Product.currency == filters.currency)
    if filters.q:
        # autoescape: % and _ typed by a user match themselves, not any text.
        query = query.where(
            or_(
                Product.name.icontains(filters.q, autoescape=True),
                Product.description.icontains(filters.q, autoescape=True),
                Product.sku.icontains(filters.q, autoescape=True),
            )
        )
    if after is not None:
        query = query.where(_after(sort, *after))
    result = await session.execute(query)
    rows: list[tuple[Product, str | None]] = [(product, slug) for product, slug in result]
    page = rows[:limit]
    return page, (page[-1][0] if len(rows) > limit else None)


async def get_product(
    session: AsyncSession, product_id: uuid.UUID, *, include_inactive: bool = False
) -> tuple[Product, str | None]:
    """A product and its category slug; 404 if unknown (or inactive, for the public)."""
    query = (
        select(Product, Category.slug)
        .outerjoin(Category, Product.category_id == Category.id)
        .where(Product.id == product_id)
    )
    if not include_inactive:
        query = query.where(Product.active.is_(True))
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise NotFound("No product with this id")
    product, category = row
    return product, category


async def product_id_by_sku(session: AsyncSession, sku: str) -> uuid.UUID:
    """The id of the active product with this SKU; 404 if there is none."""
    product_id = await session.scalar(
        select(Product.id).where(Product.sku == sku.upper(), Product.active.is_(True))
    )
    if product_id is None:
        raise NotFound(f"No product with SKU {sku!r}")
    return product_id


async def _locked_product(session: AsyncSession, product_id: uuid.UUID) -> Product:
    """The product row, locked until commit (PostgreSQL) so audited `before` states are exact."""
    product = await session.scalar(
        select(Product).where(Product.id == product_id).with_for_update()
    )
    if product is None:
        raise NotFound("No product with this id")
    return product


async def create_product(session: AsyncSession, actor: User, data: ProductIn) -> ProductOut:
    """Add a product; 409 when its SKU is taken (the unique index decides, race-free)."""
    fields = data.model_dump(exclude={"category", "images"})
    product = Product(
        **fields,
        images=[str(url) for url in data.images],
        category_id=await _category_id(session, data.category),
    )
    session.add(product)
    duplicate = f"A product with SKU {data.sku!r} already exists"
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(duplicate) from exc
    append_event(session, events.CATALOG, events.PRODUCT_CREATED, events.product_state(product))
    audit.record(
        session,
        actor,
        "product.created",
        PRODUCT,
        str(product.id),
        None,
        product_snapshot(product),
    )
    await _commit_catalog_change(session, duplicate)
    return detail(product, data.category)


async def update_product(
    session: AsyncSession, actor: User, product_id: uuid.UUID, patch: ProductPatch
) -> ProductOut:
    """Change a product's catalog data (not its stock); 409 if the new SKU is taken."""
    product = await _locked_product(session, product_id)
    before = product_snapshot(product)
    changes = patch.model_dump(exclude_unset=True, exclude={"category", "images"})
    if "category" in patch.model_fields_set:
        product.category_id = await _category_id(session, patch.category)
    if patch.images is not None:
        product.images = [str(url) for url in patch.images]
    for field, value in changes.items():
        setattr(product, field, value)
    after = product_snapshot(product)
    if after != before:
        append_event(session, events.CATALOG, events.PRODUCT_UPDATED, events.product_state(product))
        audit.record(session, actor, "product.updated", PRODUCT, str(product.id), before, after)
    await _commit_catalog_change(session, f"A product with SKU {product.sku!r} already exists")
    return detail(*await get_product(session, product_id, include_inactive=True))


async def delete_product(session: AsyncSession, actor: User, product_id: uuid.UUID) -> None:
    """Remove a product for good; 409 if orders still refer to it (deactivate it instead)."""
    product = await _locked_product(session, product_id)
    audit.record(
        session,
        actor,
        "product.deleted",
        PRODUCT,
        str(product.id),
        product_snapshot(product),
        None,
    )
    append_event(
        session,
        events.CATALOG,
        events.PRODUCT_DELETED,
        {"product_id": product.id, "sku": product.sku},
    )
    in_use = (
        f"Product {product.sku} is referenced by orders and cannot be deleted; "
        "deactivate it instead (PATCH active=false)"
    )
    await _commit_catalog_change(session, in_use, delete(Product).where(Product.id == product_id))


async def adjust_stock(
    session: AsyncSession,
    actor: User,
    product_id: uuid.UUID,
    delta: int,
    reason: str,
) -> ProductOut:
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
    audit.record(
        session,
        actor,
        "product.stock_adjusted",
        PRODUCT,
        str(product.id),
        {"stock": product.stock - delta},
        {"stock": product.stock, "delta": delta, "reason": reason},
    )
    await session.commit()
    await invalidate_product(session, product.id)
    return detail(*await get_product(session, product.id, include_inactive=True))


async def _refusal(session: AsyncSession, product_id: uuid.UUID, delta: int) -> Conflict:
    """Why an adjustment matched no row: an unknown product (raised), or a stock out of bounds."""
    product, _ = await get_product(session, product_id, include_inactive=True)
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
    await invalidate_product(session, product_id)
    return True
