"""Tables of carts, orders, stock reservations and processed Stripe events.

Money is in minor units (cents) of one currency per order, copied from the products at
checkout: later price changes never alter an order. Orders reference users without cascade:
they are accounting records and stay when a customer's personal data is erased.
"""

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...core.db import Base, Timestamped, utcnow


def _enum_column(enum_class: type[enum.StrEnum]) -> Enum:
    """Store an enum by value as a plain string (no native type: adding a state is cheap)."""
    return Enum(
        enum_class,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FULFILLED = "fulfilled"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELED = "canceled"
    PAYMENT_FAILED = "payment_failed"
    REFUNDED = "refunded"


# The order life cycle: every status change goes through `service.transition`, which refuses
# anything not listed here.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset(
        {OrderStatus.PAID, OrderStatus.CANCELED, OrderStatus.PAYMENT_FAILED}
    ),
    OrderStatus.PAID: frozenset({OrderStatus.FULFILLED, OrderStatus.REFUNDED}),
    OrderStatus.FULFILLED: frozenset({OrderStatus.SHIPPED, OrderStatus.REFUNDED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED, OrderStatus.REFUNDED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.CANCELED: frozenset(),
    OrderStatus.PAYMENT_FAILED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}


class ReservationState(enum.StrEnum):
    HELD = "held"  # stock taken from the shelf for an unpaid order
    CONSUMED = "consumed"  # the order was paid: the stock is sold
    RELEASED = "released"  # the order ended unpaid: the stock went back


class Cart(Base):
    """A customer's cart. `version` changes with every change of its content, and names the
    cart in checkout's default idempotency key, so a retried checkout of an unchanged cart
    finds the order it already made instead of making a second one."""

    __tablename__ = "carts"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CartItem(Base):
    """A product in a cart; no price here: totals always use the product's current price."""

    __tablename__ = "cart_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("carts.user_id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    quantity: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Order(Timestamped, Base):
    """One checkout: its lines, the amount charged and where it is in its life cycle."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("user_id", "checkout_key", name="uq_orders_user_id_checkout_key"),
        CheckConstraint("total_minor >= 0", name="total_non_negative"),
        # Newest-first pages of one customer's orders, and of all orders by status.
        Index("ix_orders_user_id_created_at", "user_id", "created_at"),
        Index("ix_orders_status_created_at", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[OrderStatus] = mapped_column(
        _enum_column(OrderStatus), default=OrderStatus.PENDING
    )
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    # The Idempotency-Key of the checkout request, or "cart-<version>" without one.
    checkout_key: Mapped[str] = mapped_column(String(200))
    cart_version: Mapped[int]
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    lines: Mapped[list["OrderLine"]] = relationship(
        lazy="raise", order_by="OrderLine.position", cascade="all, delete-orphan"
    )


class OrderLine(Base):
    """A product bought, with the SKU, name and unit price it had at checkout."""

    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int]
    line_total_minor: Mapped[int] = mapped_column(BigInteger)


class StockReservation(Timestamped, Base):
    """The stock an order took at checkout, held until it is paid or `expires_at` passes."""

    __tablename__ = "stock_reservations"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[ReservationState] = mapped_column(
        _enum_column(ReservationState), default=ReservationState.HELD
    )
    expires_at: Mapped[datetime] = mapped_column(index=True)
    settled_at: Mapped[datetime | None] = mapped_column(default=None)


class StripeEvent(Base):
    """A webhook event already handled: inserted in the handler's transaction, so a replay
    (Stripe retries, or an attacker resending a captured request) changes nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)
