"""Stripe webhook events: what each one does to an order.

The signature is checked before anything is read (`payments.verify_event`). Each event id is
recorded in the transaction that applies it, so a replayed or redelivered event changes
nothing; event types not handled here are recorded and ignored, as Stripe recommends.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from . import service
from .models import Order, OrderStatus, StripeEvent

log = structlog.get_logger(__name__)
Handler = Callable[[AsyncSession, dict[str, Any]], Awaitable[str]]
_handlers: dict[str, Handler] = {}


def handles(event_type: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _handlers[event_type] = handler
        return handler

    return register


async def _order_of(session: AsyncSession, intent_id: object) -> Order | None:
    """The order a PaymentIntent belongs to (None for payments this service did not make)."""
    if not isinstance(intent_id, str):
        return None
    return (
        await session.scalars(
            select(Order)
            .options(selectinload(Order.lines))
            .where(Order.payment_intent_id == intent_id)
        )
    ).one_or_none()


@handles("payment_intent.succeeded")
async def _succeeded(session: AsyncSession, intent: dict[str, Any]) -> str:
    order = await _order_of(session, intent.get("id"))
    if order is None:
        return "unknown payment"
    if order.status is not OrderStatus.PENDING:
        # Paid after the order ended (its reservation expired as the customer paid): the
        # money must go back by hand, as the stock may be sold to someone else by now.
        log.warning("payment_for_closed_order", order_id=str(order.id), status=order.status)
        return f"order already {order.status.value}"
    await service.mark_paid(session, order)
    return "paid"


@handles("payment_intent.payment_failed")
async def _failed(session: AsyncSession, intent: dict[str, Any]) -> str:
    order = await _order_of(session, intent.get("id"))
    if order is None or order.status is not OrderStatus.PENDING:
        return "nothing to do"
    await service.close_unpaid(session, order, OrderStatus.PAYMENT_FAILED, "payment failed")
    return "payment_failed"


@handles("charge.refunded")
async def _refunded(session: AsyncSession, charge: dict[str, Any]) -> str:
    """A full refund (from the admin API, or made in the Stripe dashboard). Partial refunds
    leave the order as it is."""
    order = await _order_of(session, charge.get("payment_intent"))
    if order is None or charge.get("refunded") is not True:
        return "nothing to do"
    if order.status not in service.REFUNDABLE:
        return f"order already {order.status.value}"
    await service.mark_refunded(session, order)
    return "refunded"


async def process(session: AsyncSession, event: dict[str, Any]) -> str:
    """Apply a verified event once; returns what happened (for the response and the log)."""
    event_id, event_type = event["id"], str(event.get("type", ""))
    session.add(StripeEvent(id=event_id, type=event_type[:100]))
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        return "duplicate"
    handler = _handlers.get(event_type)
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    outcome = "ignored"
    if handler is not None and isinstance(obj, dict):
        outcome = await handler(session, obj)
    await service.commit(session)
    log.info("stripe_event", event_id=event_id, type=event_type, outcome=outcome)
    return outcome
