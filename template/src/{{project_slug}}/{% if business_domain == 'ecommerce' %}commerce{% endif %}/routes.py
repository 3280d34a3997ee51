"""HTTP API of the catalog: /api/v1/products, /api/v1/categories and their admin side.

Public reads are answered from the read cache (`cache.py`) as ready-made JSON bytes: on a
hit no database session is opened and no model is validated or serialized. Only a miss
renders the response, from one query, and stores it for the next request.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response, status

from ..core.deps import AdminUser, SessionDep
from ..core.errors import Unprocessable
from . import events, service  # noqa: F401  (importing events registers its topic rules)
from .cache import SHARED_MAX_AGE, CatalogCache, cache_for, cache_of
from .cursors import Cursors
from .models import MAX_PRICE_MINOR, Product
from .orders.pages import pages_for
from .orders.routes import router as orders_router
from .schemas import (
    SKU_PATTERN,
    SLUG_PATTERN,
    AdminProductPage,
    CategoryIn,
    CategoryList,
    CategoryOut,
    CategoryPatch,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatch,
    ProductSort,
    StockAdjustmentIn,
)


@asynccontextmanager
async def read_caches(app: FastAPI) -> AsyncIterator[None]:
    """Create the instance's read caches at startup, so that the first write of a process
    finds them to invalidate (made on first read instead, a process that has served no read
    yet would invalidate through a Redis connection of its own for every write)."""
    await cache_for(app)
    await pages_for(app)
    yield


router = APIRouter(prefix="/api/v1", tags=["catalog"], lifespan=read_caches)
admin_router = APIRouter(prefix="/admin", tags=["catalog admin"])

CacheDep = Annotated[CatalogCache, Depends(cache_of)]
JSON = "application/json"
# Public reads may be shared (micro-cache, CDN) for a few seconds: see cache.SHARED_MAX_AGE.
SHARED = {"Cache-Control": f"public, max-age={SHARED_MAX_AGE}"}
CategorySlug = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=64)]
CategoryFilter = Annotated[
    str | None,
    Query(
        pattern=SLUG_PATTERN, max_length=64, description="Category slug (with its subcategories)"
    ),
]
PriceFilter = Annotated[int | None, Query(ge=0, le=MAX_PRICE_MINOR, description="Minor units")]
CurrencyFilter = Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")]
Search = Annotated[
    str | None,
    Query(min_length=1, max_length=100, description="Text in the name, description or SKU"),
]
Cursor = Annotated[
    str | None,
    Query(
        max_length=400,
        pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
        description="`next_cursor` of the previous page (of the same sort)",
    ),
]
Limit = Annotated[int, Query(ge=1, le=100)]


def _cursors(request: Request) -> Cursors:
    cursors: Cursors | None = getattr(request.app.state, "catalog_cursors", None)
    if cursors is None:
        cursors = Cursors(request.app.state.settings.secret_key.get_secret_value())
        request.app.state.catalog_cursors = cursors
    return cursors


def _price_range(min_price: int | None, max_price: int | None) -> None:
    if min_price is not None and max_price is not None and min_price > max_price:
        raise Unprocessable(f"min_price ({min_price}) is above max_price ({max_price})")


async def _page(
    request: Request,
    filters: service.ProductFilter,
    sort: ProductSort,
    cursor: str | None,
    limit: int,
) -> tuple[list[tuple[Product, str | None]], str | None]:
    """The rows of a page (with category slugs) and the cursor of the next one."""
    cursors = _cursors(request)
    after = None if cursor is None else cursors.decode(cursor, sort)
    async with request.app.state.db.sessions() as session:
        rows, last = await service.list_products(session, filters, sort, after, limit)
    if last is None:
        return rows, None
    return rows, cursors.encode(sort, service.sort_key(last, sort), last.id)


@router.get("/products", response_model=ProductPage)
async def list_products(
    request: Request,
    category: CategoryFilter = None,
    min_price: PriceFilter = None,
    max_price: PriceFilter = None,
    currency: CurrencyFilter = None,
    q: Search = None,
    sort: ProductSort = ProductSort.SKU,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> Response:
    """Active products, filtered, sorted and a page at a time (public, cached).

    The list leaves the stock out (see the product itself for it), so sales do not make
    cached pages stale. 404 for an unknown category, 422 for a cursor that is not one we
    issued for this sort.
    """
    _price_range(min_price, max_price)
    cache = await cache_of(request)
    key = repr(("list", category, min_price, max_price, currency, q, sort.value, cursor, limit))
    body, tag = await cache.lookup(key)
    if body is None:
        filters = service.ProductFilter(category, min_price, max_price, currency, q)
        rows, next_cursor = await _page(request, filters, sort, cursor, limit)
        page = ProductPage(items=[service.summary(*row) for row in rows], next_cursor=next_cursor)
        body = page.model_dump_json().encode()
        await cache.store(key, tag, body)
    return Response(body, media_type=JSON, headers=SHARED)


async def _product_response(
    request: Request, product_id: uuid.UUID, *, shared: bool = True
) -> Response:
    cache = await cache_of(request)
    key = f"product:{product_id}"
    body, tag = await cache.lookup(key, product_id)
    if body is None:
        async with request.app.state.db.sessions() as session:
            product = service.detail(*await service.get_product(session, product_id))
        body = product.model_dump_json().encode()
        await cache.store(key, tag, body)
    return Response(body, media_type=JSON, headers=SHARED if shared else None)


@router.get("/products/by-sku/{sku}", response_model=ProductOut)
async def get_product_by_sku(
    request: Request, sku: Annotated[str, Path(pattern=SKU_PATTERN)]
) -> Response:
    """The active product with this SKU, any case (public, cached). 404 if there is none."""
    cache = await cache_of(request)
    key = f"sku:{sku.upper()}"
    found, tag = await cache.lookup(key)
    if found is None:
        async with request.app.state.db.sessions() as session:
            product_id = await service.product_id_by_sku(session, sku)
        await cache.store(key, tag, product_id.hex.encode())
    else:
        product_id = uuid.UUID(found.decode())
    # Not shared: a stock change purges the product's own path, not its SKU aliases.
    return await _product_response(request, product_id, shared=False)


@router.get("/products/{product_id}", response_model=ProductOut)
async def get_product(request: Request, product_id: uuid.UUID) -> Response:
    """One active product with its live stock (public, cached until its stock changes).

    404 if there is none with this id, or it is inactive.
    """
    return await _product_response(request, product_id)


@router.get("/categories", response_model=CategoryList)
async def list_categories(request: Request) -> Response:
    """Every category with its parent's slug, by slug (public, cached)."""
    cache = await cache_of(request)
    body, tag = await cache.lookup("categories")
    if body is None:
        async with request.app.state.db.sessions() as session:
            items = await service.list_categories(session)
        body = CategoryList(items=items).model_dump_json().encode()
        await cache.store("categories", tag, body)
    return Response(body, media_type=JSON, headers=SHARED)


@router.get("/categories/{slug}", response_model=CategoryOut)
async def get_category(request: Request, slug: CategorySlug) -> Response:
    """One category (public, cached). 404 if there is none with this slug."""
    cache = await cache_of(request)
    key = f"category:{slug}"
    body, tag = await cache.lookup(key)
    if body is None:
        async with request.app.state.db.sessions() as session:
            category = await service.get_category(session, slug)
        body = category.model_dump_json().encode()
        await cache.store(key, tag, body)
    return Response(body, media_type=JSON, headers=SHARED)


# --- admin writes: each one audited, and invalidating the cache of every instance ---------


@router.post("/categories", status_code=status.HTTP_201_CREATED)
async def create_category(
    body: CategoryIn, admin: AdminUser, session: SessionDep, _cache: CacheDep
) -> CategoryOut:
    """Add a category (admins only). 409 if the slug exists, 404 for an unknown parent."""
    return await service.create_category(session, admin, body)


@router.patch("/categories/{slug}")
async def update_category(
    slug: CategorySlug, body: CategoryPatch, admin: AdminUser, session: SessionDep, _cache: CacheDep
) -> CategoryOut:
    """Rename, re-slug or move a category (admins only). 409 on a taken slug or a cycle."""
    return await service.update_category(session, admin, slug, body)


@router.delete("/categories/{slug}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_category(
    slug: CategorySlug, admin: AdminUser, session: SessionDep, _cache: CacheDep
) -> None:
    """Remove an empty category (admins only). 409 while it holds products or subcategories."""
    await service.delete_category(session, admin, slug)


@router.post("/products", status_code=status.HTTP_201_CREATED)
async def create_product(
    body: ProductIn, admin: AdminUser, session: SessionDep, _cache: CacheDep
) -> ProductOut:
    """Add a product to the catalog (admins only). 409 if the SKU exists."""
    return await service.create_product(session, admin, body)


@router.patch("/products/{product_id}")
async def update_product(
    product_id: uuid.UUID,
    body: ProductPatch,
    admin: AdminUser,
    session: SessionDep,
    _cache: CacheDep,
) -> ProductOut:
    """Change a product's data, or deactivate it with `active: false` (admins only).

    The stock is not a field here (422): it changes through stock adjustments only.
    """
    return await service.update_product(session, admin, product_id, body)


@router.delete("/products/{product_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_product(
    product_id: uuid.UUID, admin: AdminUser, session: SessionDep, _cache: CacheDep
) -> None:
    """Delete a product (admins only). 409 if orders refer to it: deactivate it instead."""
    await service.delete_product(session, admin, product_id)


@router.post("/products/{product_id}/stock-adjustments")
async def adjust_stock(
    product_id: uuid.UUID,
    body: StockAdjustmentIn,
    admin: AdminUser,
    session: SessionDep,
    _cache: CacheDep,
) -> ProductOut:
    """Add or remove stock, with a reason (admins only). 409 if the stock would go below 0."""
    return await service.adjust_stock(session, admin, product_id, body.delta, body.reason)


# --- admin reads: inactive products too, never cached --------------------------------------


@admin_router.get("/products")
async def admin_list_products(
    request: Request,
    _admin: AdminUser,
    category: CategoryFilter = None,
    min_price: PriceFilter = None,
    max_price: PriceFilter = None,
    currency: CurrencyFilter = None,
    q: Search = None,
    active: Annotated[bool | None, Query(description="Only active (or inactive) ones")] = None,
    sort: ProductSort = ProductSort.SKU,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> AdminProductPage:
    """Every product, inactive ones included, with its stock (admins only)."""
    _price_range(min_price, max_price)
    filters = service.ProductFilter(category, min_price, max_price, currency, q, active)
    rows, next_cursor = await _page(request, filters, sort, cursor, limit)
    return AdminProductPage(items=[service.detail(*row) for row in rows], next_cursor=next_cursor)


@admin_router.get("/products/{product_id}")
async def admin_get_product(
    product_id: uuid.UUID, _admin: AdminUser, session: SessionDep
) -> ProductOut:
    """A product, active or not (admins only). 404 if there is none with this id."""
    return service.detail(*await service.get_product(session, product_id, include_inactive=True))


router.include_router(admin_router)
# Carts, checkout and orders live in their own subpackage; the domain exposes one router.
router.include_router(orders_router)
