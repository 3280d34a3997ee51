"""HTTP API of carts, checkout, orders, payments and the Stripe webhook.

Included by the catalog's router, which puts it under /api/v1.
"""

import uuid
from typing import Annotated, Any

import stripe
import structlog
from fastapi import APIRouter, Depends, Header, Query, Request, Response, status

from ...core.deps import AdminUser, CallerId, CurrentUser, SessionDep
from ...core.errors import Conflict
from . import events, service, webhooks  # noqa: F401  (events registers its topic rule)
from .models import OrderStatus
from .pages import page_key, pages_of
from .payments import PaymentGateway, PaymentProviderError, gateway_of, verify_event
from .schemas import (
    CartItemIn,
    CartOut,
    CartQuantityIn,
    CheckoutOut,
    OrderOut,
    OrderPage,
    RefundOut,
    TransitionIn,
)
from .settings import PaymentSettings, get_payment_settings

router = APIRouter(tags=["orders"])
log = structlog.get_logger(__name__)
GatewayDep = Annotated[PaymentGateway, Depends(gateway_of)]


async def payment_settings() -> PaymentSettings:
    """Async, so FastAPI calls it in the request's task (a plain function would be sent to
    its thread pool on every webhook)."""
    return get_payment_settings()


PaymentSettingsDep = Annotated[PaymentSettings, Depends(payment_settings)]
Cursor = Annotated[
    str | None, Query(max_length=100, description="`next_cursor` of the previous page")
]
Limit = Annotated[int, Query(ge=1, le=100)]
# A customer's own data: no shared cache (CDN, proxy) may keep it.
PRIVATE = {"Cache-Control": "private, no-store"}


# ---------------------------------------------------------------- cart


@router.get("/cart")
async def view_cart(user: CurrentUser, session: SessionDep) -> CartOut:
    """Your cart, priced at the catalog's current prices."""
    return await service.get_cart(session, user.id)


@router.post("/cart/items")
async def add_to_cart(body: CartItemIn, user: CurrentUser, session: SessionDep) -> CartOut:
    """Add a product (404 unknown, 409 not for sale or not enough stock)."""
    return await service.add_item(session, user.id, body.product_id, body.quantity)


@router.put("/cart/items/{product_id}")
async def change_quantity(
    product_id: uuid.UUID, body: CartQuantityIn, user: CurrentUser, session: SessionDep
) -> CartOut:
    """Set how many of a product the cart holds."""
    return await service.set_quantity(session, user.id, product_id, body.quantity)


@router.delete("/cart/items/{product_id}")
async def remove_from_cart(
    product_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> CartOut:
    return await service.remove_item(session, user.id, product_id)


# ---------------------------------------------------------------- checkout and orders


@router.post("/checkout", status_code=status.HTTP_201_CREATED)
async def checkout(
    response: Response,
    user: CurrentUser,
    session: SessionDep,
    gateway: GatewayDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=200,
            pattern=r"^[\x21-\x7e]+$",
            description="Makes retries safe: the same key returns the same order",
        ),
    ] = None,
) -> CheckoutOut:
    """Order the cart: stock is held, and Stripe.js confirms the payment with `client_secret`.

    201 for a new order; 200 with the same order when the request is repeated (same
    Idempotency-Key, or the same unchanged cart). 422 empty cart, 409 out of stock, 503 when
    payments are not configured.
    """
    result, created = await service.checkout(session, gateway, user, idempotency_key)
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.get("/orders", response_model=OrderPage)
async def my_orders(
    caller: CallerId, request: Request, cursor: Cursor = None, limit: Limit = 20
) -> Response:
    """Your orders, newest first.

    The hot read of a signed-in customer: who is asking comes from the token alone, and the
    page is kept as JSON bytes until the customer's orders change (`pages.py`), so a repeated
    read opens no database session (the response model is for the docs).
    """
    cache = await pages_of(request)
    key = page_key(caller, cursor, limit)
    body, tag = await cache.lookup(key, caller)
    if body is None:
        async with request.app.state.db.sessions() as session:
            items, next_cursor = await service.customer_orders(session, caller, cursor, limit)
        page = OrderPage(items=[OrderOut.model_validate(o) for o in items], next_cursor=next_cursor)
        body = page.model_dump_json().encode()
        await cache.store(key, tag, body)
    return Response(body, media_type="application/json", headers=PRIVATE)


@router.get("/orders/{order_id}")
async def my_order(order_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> OrderOut:
    """One of your orders (404 for anyone else's)."""
    return OrderOut.model_validate(await service.load_order(session, order_id, user_id=user.id))


# ---------------------------------------------------------------- admin


@router.get("/admin/orders")
async def all_orders(
    _admin: AdminUser,
    session: SessionDep,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> OrderPage:
    """Every customer's orders, newest first, optionally of one status (admins only)."""
    items, next_cursor = await service.list_orders(
        session, user_id=None, status=status_, cursor=cursor, limit=limit
    )
    return OrderPage(items=[OrderOut.model_validate(o) for o in items], next_cursor=next_cursor)


@router.post("/admin/orders/{order_id}/transitions")
async def advance_order(
    order_id: uuid.UUID, body: TransitionIn, admin: AdminUser, request: Request, session: SessionDep
) -> OrderOut:
    """Move an order on (fulfilled, shipped, delivered) or cancel a pending one (admins only).

    409 names the order's current state and the states it may move to.
    """
    order = await service.load_order(session, order_id)
    before = service.snapshot(order)
    to = OrderStatus(body.to)
    if to is OrderStatus.CANCELED and order.status is OrderStatus.PENDING:
        # The customer may be paying right now: cancel the intent first (as the expiry job).
        gateway = await gateway_of(request) if order.payment_intent_id is not None else None
        if gateway is not None and order.payment_intent_id is not None:
            try:
                cancelable = await gateway.cancel_intent(order.payment_intent_id)
            except stripe.StripeError as exc:
                raise PaymentProviderError(
                    "The payment provider did not answer; try again"
                ) from exc
            if not cancelable:
                raise Conflict(
                    "The order's payment has just succeeded: it can no longer be canceled"
                )
        await service.close_unpaid(session, order, to, "canceled by an admin")
    else:
        await service.transition(session, order, to)
    service.audit(session, admin, f"order.{to.value}", order, before)
    await service.commit(session)
    return OrderOut.model_validate(order)


@router.post("/admin/orders/{order_id}/refund")
async def refund_order(
    order_id: uuid.UUID, admin: AdminUser, session: SessionDep, gateway: GatewayDep
) -> RefundOut:
    """Refund an order in full through Stripe; the order is refunded at once (admins only).

    The `charge.refunded` webhook that follows finds it refunded and changes nothing.
    """
    order = await service.load_order(session, order_id)
    before = service.snapshot(order)
    if order.status not in service.REFUNDABLE or order.payment_intent_id is None:
        raise Conflict(
            f"Order {order.id} is {order.status.value}: only paid orders (paid, fulfilled, "
            "shipped, delivered) can be refunded"
        )
    try:
        refund_id = await gateway.refund(order_id=str(order.id), intent_id=order.payment_intent_id)
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"Stripe refused or did not answer the refund: {exc}") from exc
    await service.mark_refunded(session, order)
    service.audit(session, admin, "order.refunded", order, before, refund_id=refund_id)
    await service.commit(session)
    return RefundOut(order=OrderOut.model_validate(order), refund_id=refund_id)


# ---------------------------------------------------------------- Stripe webhook


@router.post("/payments/webhook", tags=["payments"])
async def stripe_webhook(
    request: Request,
    session: SessionDep,
    settings: PaymentSettingsDep,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Events from Stripe, signed with the endpoint's secret (400 if the signature is bad or
    older than 5 minutes). Each event is applied once; replays answer 200 and change nothing."""
    event = verify_event(settings, await request.body(), stripe_signature)
    outcome = await webhooks.process(session, event)
    if outcome == "payment_failed" and settings.configured:
        await _stop_retries(request, event)
    return {"received": True, "outcome": outcome}


async def _stop_retries(request: Request, event: dict[str, Any]) -> None:
    """Cancel the intent of an order that failed: its stock is gone back to the shelf, so the
    customer must not be able to pay it with another card (they check out again)."""
    gateway = await gateway_of(request)
    try:
        await gateway.cancel_intent(str(event["data"]["object"]["id"]))
    except stripe.StripeError as exc:
        log.warning("payment_intent_cancel_failed", error=str(exc))
