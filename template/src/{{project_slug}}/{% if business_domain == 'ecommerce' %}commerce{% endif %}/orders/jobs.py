"""Background work of orders: releasing the stock of checkouts that were never paid."""

from datetime import datetime

import stripe
import structlog
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...core.db import Database, utcnow
from ...core.errors import Conflict
from ...core.jobs import broker, database
from . import service
from .models import Order, OrderStatus, ReservationState, StockReservation
from .payments import PaymentGateway
from .settings import get_payment_settings

log = structlog.get_logger(__name__)
BATCH = 200


async def release_expired(db: Database, gateway: PaymentGateway | None, now: datetime) -> int:
    """Cancel pending orders whose reservation expired before `now`; returns how many.

    Each order's PaymentIntent is cancelled at Stripe first, so a customer cannot pay for an
    order whose stock went back. If Stripe says the intent can no longer be cancelled it has
    just succeeded: the order is left for the payment webhook. If Stripe cannot be reached
    the order waits for the next run. Each order is released in its own transaction.
    """
    async with db.sessions() as session:
        expired = list(
            await session.scalars(
                select(Order)
                .join(StockReservation, StockReservation.order_id == Order.id)
                .options(selectinload(Order.lines))
                .where(
                    Order.status == OrderStatus.PENDING,
                    StockReservation.state == ReservationState.HELD,
                    StockReservation.expires_at <= now,
                )
                .order_by(StockReservation.expires_at)
                .limit(BATCH)
            )
        )
        released = 0
        for order in expired:
            if order.payment_intent_id is not None and gateway is not None:
                try:
                    if not await gateway.cancel_intent(order.payment_intent_id):
                        continue
                except stripe.StripeError as exc:
                    log.warning(
                        "reservation_release_deferred", order_id=str(order.id), error=str(exc)
                    )
                    continue
            try:
                await service.close_unpaid(
                    session, order, OrderStatus.CANCELED, "reservation expired"
                )
            except Conflict:  # paid (or canceled) meanwhile: nothing to release
                await session.rollback()
                continue
            await service.commit(session)
            released += 1
    return released


@broker.task(
    task_name="commerce.release_expired_reservations",
    schedule=[{"cron": "* * * * *", "schedule_id": "release_expired_reservations"}],
)
async def release_expired_reservations() -> int:
    """Every minute: put back the stock of checkouts not paid in time."""
    settings = get_payment_settings()
    gateway = PaymentGateway(settings) if settings.configured else None
    try:
        return await release_expired(database(), gateway, utcnow())
    finally:
        if gateway is not None:
            await gateway.aclose()
