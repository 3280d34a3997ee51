"""HTTP API of the catalog: /api/v1/products."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ..core.deps import AdminUser, SessionDep
from . import events, service  # noqa: F401  (importing events registers its topic rules)
from .schemas import SKU_PATTERN, ProductIn, ProductOut, ProductPage, StockAdjustmentIn

router = APIRouter(prefix="/api/v1", tags=["catalog"])


@router.get("/products")
async def list_products(
    session: SessionDep,
    cursor: Annotated[
        str | None, Query(pattern=SKU_PATTERN, description="`next_cursor` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    active: Annotated[bool | None, Query(description="Only active (or inactive) ones")] = None,
) -> ProductPage:
    """The catalog in SKU order, a page at a time (public)."""
    items, next_cursor = await service.list_products(
        session, cursor=cursor, limit=limit, active=active
    )
    return ProductPage(items=[ProductOut.model_validate(p) for p in items], next_cursor=next_cursor)


@router.get("/products/{product_id}")
async def get_product(product_id: uuid.UUID, session: SessionDep) -> ProductOut:
    """One product (public). 404 if there is none with this id."""
    return ProductOut.model_validate(await service.get_product(session, product_id))


@router.post("/products", status_code=status.HTTP_201_CREATED)
async def create_product(body: ProductIn, _admin: AdminUser, session: SessionDep) -> ProductOut:
    """Add a product to the catalog (admins only). 409 if the SKU exists."""
    return ProductOut.model_validate(await service.create_product(session, body))


@router.post("/products/{product_id}/stock-adjustments")
async def adjust_stock(
    product_id: uuid.UUID, body: StockAdjustmentIn, _admin: AdminUser, session: SessionDep
) -> ProductOut:
    """Add or remove stock (admins only). 409 if the stock would go below 0."""
    product = await service.adjust_stock(session, product_id, body.delta, body.reason)
    return ProductOut.model_validate(product)
