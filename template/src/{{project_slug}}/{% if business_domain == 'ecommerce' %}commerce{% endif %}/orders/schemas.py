"""Request and response bodies of carts, checkout and orders.

Requests carry product ids and quantities only: a price or currency sent by a client is
refused (unknown fields are a 422), and every amount is computed from the catalog.
"""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...core.schemas import Input
from ..models import MAX_STOCK
from .models import OrderStatus

Quantity = Annotated[int, Field(gt=0, le=MAX_STOCK, description="How many (at least 1)")]


class CartItemIn(Input):
    product_id: uuid.UUID
    quantity: Quantity = 1


class CartQuantityIn(Input):
    quantity: Quantity


class CartLineOut(BaseModel):
    product_id: uuid.UUID
    sku: str
    name: str
    quantity: int
    unit_price_minor: int
    currency: str
    line_total_minor: int
    in_stock: int
    active: bool


class CartOut(BaseModel):
    """The cart at the catalog's current prices. `total_minor` is null when the lines are in
    more than one currency (checkout then refuses the cart)."""

    items: list[CartLineOut]
    currency: str | None
    total_minor: int | None
    version: int


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: uuid.UUID
    sku: str
    name: str
    unit_price_minor: int
    quantity: int
    line_total_minor: int


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    status: OrderStatus
    currency: str
    total_minor: int
    lines: list[OrderLineOut]
    created_at: datetime
    updated_at: datetime


class CheckoutOut(BaseModel):
    """A pending order and the PaymentIntent's client secret, for Stripe.js to confirm the
    payment in the browser (null once the order is no longer pending)."""

    order: OrderOut
    client_secret: str | None
    payment_intent_id: str | None
    reserved_until: datetime | None


class OrderPage(BaseModel):
    """Orders newest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[OrderOut]
    next_cursor: str | None


class TransitionIn(Input):
    """Where an admin moves an order. Payment states (paid, payment_failed) come from Stripe's
    webhooks only, and refunds from the refund endpoint."""

    to: Literal[
        OrderStatus.FULFILLED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELED
    ]


class RefundOut(BaseModel):
    order: OrderOut
    refund_id: str
