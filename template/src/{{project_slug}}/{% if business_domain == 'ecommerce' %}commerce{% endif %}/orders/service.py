"""Rules of carts, checkout and the order life cycle.

Stock moves only through conditional UPDATEs (`stock = stock - q WHERE stock >= q`), in the
same transaction as the order change that causes them and the events announcing both, so
concurrent checkouts can never sell more than exists and the event log never disagrees with
the tables. Status changes are compare-and-set on the current status: of two concurrent
deciders (the expiry job and a payment webhook, say) exactly one wins.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

import stripe
import structlog
from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ...core.audit import record
from ...core.auth.models import User
from ...core.db import utcnow
from ...core.errors import Conflict, NotFound, Unprocessable
from ...core.outbox import append_event
from .. import events as catalog_events
from ..cache import invalidate_product
from ..models import Product
from . import events
from .models import (
    TRANSITIONS,
    Cart,
    CartItem,
    Order,
    OrderLine,
    OrderStatus,
    ReservationState,
    StockReservation,
)
from .pages import orders_changed
from .payments import PaymentGateway, PaymentProviderError
from .schemas import CartLineOut, CartOut, CheckoutOut, OrderOut
from .settings import RESERVATION_TTL

log = structlog.get_logger(__name__)
REFUNDABLE = frozenset(
    {OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.SHIPPED, OrderStatus.DELIVERED}
)


# ---------------------------------------------------------------- cart


async def get_cart(session: AsyncSession, user_id: uuid.UUID, cart: Cart | None = None) -> CartOut:
    """The cart priced from the catalog now: what a client shows is what checkout charges.

    `cart`: the cart row when the caller has just written it (saves reading it again).
    """
    if cart is None:
        cart = await session.get(Cart, user_id)
    rows = await session.execute(
        select(CartItem.quantity, Product)
        .join(Product, Product.id == CartItem.product_id)
        .where(CartItem.user_id == user_id)
        .order_by(CartItem.added_at, Product.sku)
    )
    items = [
        CartLineOut(
            product_id=product.id,
            sku=product.sku,
            name=product.name,
            quantity=quantity,
            unit_price_minor=product.price_minor,
            currency=product.currency,
            line_total_minor=product.price_minor * quantity,
            in_stock=product.stock,
            active=product.active,
        )
        for quantity, product in rows
    ]
    currencies = {item.currency for item in items}
    single = len(currencies) == 1
    return CartOut(
        items=items,
        currency=currencies.pop() if single else None,
        total_minor=sum(i.line_total_minor for i in items) if single or not items else None,
        version=cart.version if cart is not None else 0,
    )


async def _sellable(session: AsyncSession, product_id: uuid.UUID, quantity: int) -> Product:
    """The product, if it can go into a cart in this quantity (404 / 409 with the reason)."""
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound("No product with this id")
    if not product.active:
        raise Conflict(f"{product.sku} is not for sale at the moment")
    if quantity > product.stock:
        raise Conflict(
            f"Not enough stock: {product.sku} has {product.stock} in stock, "
            f"so a quantity of {quantity} cannot be reserved"
        )
    return product


async def _touch_cart(session: AsyncSession, user_id: uuid.UUID) -> Cart:
    """Create the cart or bump its version: its content is about to change.

    Takes the cart's row lock, so every change to one cart (and the webhook emptying it after
    a payment) waits for the one before it: callers read the items only after this.
    """
    cart = await session.get(Cart, user_id, with_for_update=True, populate_existing=True)
    if cart is None:
        cart = Cart(user_id=user_id)
        session.add(cart)
        try:
            await session.flush()
        except IntegrityError:  # a concurrent request made it first
            await session.rollback()
            return await _touch_cart(session, user_id)
        return cart
    cart.version += 1
    cart.updated_at = utcnow()
    return cart


async def _locked_item(
    session: AsyncSession, user_id: uuid.UUID, product_id: uuid.UUID
) -> tuple[Cart, CartItem | None]:
    """The cart, and its line of a product as committed now, read under the cart's lock."""
    cart = await _touch_cart(session, user_id)
    return cart, await session.get(CartItem, (user_id, product_id), populate_existing=True)


async def add_item(
    session: AsyncSession, user_id: uuid.UUID, product_id: uuid.UUID, quantity: int
) -> CartOut:
    """Put `quantity` more of a product in the cart (a product already there adds up)."""
    cart, item = await _locked_item(session, user_id, product_id)
    total = quantity + (item.quantity if item is not None else 0)
    await _sellable(session, product_id, total)
    if item is None:
        session.add(CartItem(user_id=user_id, product_id=product_id, quantity=total))
    else:
        item.quantity = total
    await session.commit()
    return await get_cart(session, user_id, cart)


async def set_quantity(
    session: AsyncSession, user_id: uuid.UUID, product_id: uuid.UUID, quantity: int
) -> CartOut:
    cart, item = await _locked_item(session, user_id, product_id)
    if item is None:
        raise NotFound("This product is not in your cart")
    await _sellable(session, product_id, quantity)
    item.quantity = quantity
    await session.commit()
    return await get_cart(session, user_id, cart)


async def remove_item(session: AsyncSession, user_id: uuid.UUID, product_id: uuid.UUID) -> CartOut:
    cart, item = await _locked_item(session, user_id, product_id)
    if item is None:
        raise NotFound("This product is not in your cart")
    await session.execute(
        delete(CartItem).where(CartItem.user_id == user_id, CartItem.product_id == product_id)
    )
    await session.commit()
    return await get_cart(session, user_id, cart)


# ---------------------------------------------------------------- stock

_MOVED = "commerce_stock_moved"
_ORDERS_CHANGED = "commerce_orders_changed"


async def commit(session: AsyncSession) -> None:
    """Commit, then make stale the cached reads the change affects: the catalog's reads of
    every product whose stock moved, and the order pages of every customer whose orders
    changed (after the commit: a read in between would otherwise cache the old state again)."""
    await session.commit()
    moved = session.info.pop(_MOVED, None)
    if moved:
        await invalidate_product(session, *sorted(moved, key=str))
    changed = session.info.pop(_ORDERS_CHANGED, None)
    if changed:
        await orders_changed(session, changed)


def _announce(session: AsyncSession, order: Order, previous: OrderStatus | None) -> None:
    """Append `order.status_changed` to the customer's topic, and note the customer for
    `commit`, which makes their cached order pages stale."""
    append_event(
        session,
        events.orders_topic(order.user_id),
        events.ORDER_STATUS_CHANGED,
        events.status_changed(order, previous),
    )
    session.info.setdefault(_ORDERS_CHANGED, set()).add(order.user_id)


@dataclass(frozen=True)
class StockMove:
    product_id: uuid.UUID
    quantity: int


async def _move_stock(
    session: AsyncSession, moves: Sequence[StockMove], sign: int, reason: str
) -> None:
    """Take (sign -1) or put back (+1) stock, announcing each change (and noting the product
    for `commit`, which makes the catalog's cached reads of it stale).

    Taking is conditional: a row only matches while enough stock is left, so of concurrent
    checkouts for the last items only as many as fit succeed (the others get a 409), and
    the `stock >= 0` check constraint stands behind it. Rows are locked in product id order,
    so two multi-item checkouts cannot deadlock.
    """
    for move in sorted(moves, key=lambda m: str(m.product_id)):
        delta = sign * move.quantity
        new_stock = Product.stock + delta
        statement = (
            update(Product)
            .where(Product.id == move.product_id)
            .values(
                stock=new_stock, sold_out_at=case((new_stock > 0, None), else_=Product.sold_out_at)
            )
            .returning(Product)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        if sign < 0:
            statement = statement.where(Product.stock >= move.quantity, Product.active)
        product = (await session.scalars(statement)).one_or_none()
        if product is None:
            raise _OutOfStock(move.product_id)
        append_event(
            session,
            catalog_events.inventory_topic(product.id),
            catalog_events.INVENTORY_UPDATED,
            catalog_events.inventory_updated(product, delta, reason),
        )
        session.info.setdefault(_MOVED, set()).add(product.id)


class _OutOfStock(Exception):  # noqa: N818  (a signal inside checkout, not an error)
    def __init__(self, product_id: uuid.UUID) -> None:
        super().__init__(str(product_id))
        self.product_id = product_id


def _moves(order: Order) -> list[StockMove]:
    return [StockMove(line.product_id, line.quantity) for line in order.lines]


# ---------------------------------------------------------------- transitions


def _allowed(status: OrderStatus) -> str:
    allowed = sorted(s.value for s in TRANSITIONS[status])
    return ", ".join(allowed) if allowed else "none (it is a final state)"


async def transition(session: AsyncSession, order: Order, to: OrderStatus) -> OrderStatus:
    """Move `order` to `to` if the life cycle allows it and nobody moved it meanwhile.

    Appends `order.status_changed` to the customer's topic in the caller's transaction (the
    caller commits). Returns the previous status; 409 naming the current and allowed states.
    """
    previous = order.status
    if to not in TRANSITIONS[previous]:
        raise Conflict(
            f"Order {order.id} is {previous.value}: it cannot become {to.value}; "
            f"allowed next states: {_allowed(previous)}"
        )
    now = utcnow()
    result = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == previous)
        .values(status=to, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        await session.refresh(order, ["status"])
        raise Conflict(
            f"Order {order.id} changed meanwhile and is now {order.status.value}; "
            f"allowed next states: {_allowed(order.status)}"
        )
    # Already written above: update the loaded order without making the flush write it again.
    set_committed_value(order, "status", to)
    set_committed_value(order, "updated_at", now)
    _announce(session, order, previous)
    return previous


async def _settle_reservation(
    session: AsyncSession, order: Order, state: ReservationState, reason: str
) -> None:
    """Close the order's stock reservation if it is still held: consumed (paid) keeps the
    stock sold, released puts it back on the shelf."""
    result = await session.execute(
        update(StockReservation)
        .where(
            StockReservation.order_id == order.id,
            StockReservation.state == ReservationState.HELD,
        )
        .values(state=state, settled_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) == 1 and state is ReservationState.RELEASED:
        await _move_stock(session, _moves(order), +1, reason)


async def load_order(
    session: AsyncSession, order_id: uuid.UUID, *, user_id: uuid.UUID | None = None
) -> Order:
    """An order with its lines; 404 if none, or (with `user_id`) if it is someone else's."""
    query = select(Order).options(selectinload(Order.lines)).where(Order.id == order_id)
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    order = (await session.scalars(query)).one_or_none()
    if order is None:
        raise NotFound("No order with this id")
    return order


async def close_unpaid(session: AsyncSession, order: Order, to: OrderStatus, reason: str) -> None:
    """End a pending order without payment (canceled or payment_failed) and put its stock
    back. The caller commits (with `commit`)."""
    await transition(session, order, to)
    await _settle_reservation(session, order, ReservationState.RELEASED, reason)
    # The cart stays as it was; a new version makes the next checkout a new order.
    cart = await session.get(Cart, order.user_id, with_for_update=True, populate_existing=True)
    if cart is not None and cart.version == order.cart_version:
        cart.version += 1


async def mark_paid(session: AsyncSession, order: Order) -> None:
    await transition(session, order, OrderStatus.PAID)
    await _settle_reservation(session, order, ReservationState.CONSUMED, "sold")
    await _clear_checked_out_cart(session, order)


async def mark_refunded(session: AsyncSession, order: Order) -> None:
    """Refunded; when the goods never left (refund of a merely paid order) they go back on
    the shelf."""
    previous = await transition(session, order, OrderStatus.REFUNDED)
    if previous is OrderStatus.PAID:
        await _move_stock(session, _moves(order), +1, "refunded before fulfilment")


async def _clear_checked_out_cart(session: AsyncSession, order: Order) -> None:
    """Empty the cart once its order is paid, unless the customer changed it since checkout
    (read under the cart's lock: a change being made now is waited for, and then seen)."""
    cart = await session.get(Cart, order.user_id, with_for_update=True, populate_existing=True)
    if cart is not None and cart.version == order.cart_version:
        await session.execute(delete(CartItem).where(CartItem.user_id == order.user_id))
        cart.version += 1
        cart.updated_at = utcnow()


# ---------------------------------------------------------------- checkout


async def _order_by_key(session: AsyncSession, user_id: uuid.UUID, key: str) -> Order | None:
    return (
        await session.scalars(
            select(Order)
            .options(selectinload(Order.lines))
            .where(Order.user_id == user_id, Order.checkout_key == key)
        )
    ).one_or_none()


async def _cart_for_checkout(
    session: AsyncSession, user_id: uuid.UUID
) -> list[tuple[int, uuid.UUID, str, str, int, str, bool, int]]:
    rows = await session.execute(
        select(
            CartItem.quantity,
            Product.id,
            Product.sku,
            Product.name,
            Product.price_minor,
            Product.currency,
            Product.active,
            Product.stock,
        )
        .join(Product, Product.id == CartItem.product_id)
        .where(CartItem.user_id == user_id)
        .order_by(Product.sku)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def checkout(
    session: AsyncSession,
    gateway: PaymentGateway,
    user: User,
    idempotency_key: str | None,
) -> tuple[CheckoutOut, bool]:
    """Turn the cart into a pending order holding its stock, and a PaymentIntent for it.

    Idempotent: the same Idempotency-Key (or, without one, the same unchanged cart) returns
    the order made the first time. Returns the checkout and whether it is new.
    """
    cart = await session.get(Cart, user.id)
    cart_version = cart.version if cart is not None else 0
    key = idempotency_key or f"cart-{cart_version}"
    existing = await _order_by_key(session, user.id, key)
    if existing is not None:
        return await _resume(session, gateway, existing), False
    rows = await _cart_for_checkout(session, user.id)
    if not rows:
        raise Unprocessable("The cart is empty: add products before checking out")
    currencies = {row[5] for row in rows}
    if len(currencies) > 1:
        raise Unprocessable(
            f"The cart mixes currencies ({', '.join(sorted(currencies))}); one payment is in "
            "one currency, so check out products of each currency separately"
        )
    for quantity, _id, sku, _name, _price, _currency, active, stock in rows:
        if not active:
            raise Conflict(f"{sku} is not for sale any more: remove it from the cart")
        if quantity > stock:
            raise Conflict(f"Out of stock: {sku} has {stock} left and the cart wants {quantity}")
    order = Order(
        id=uuid.uuid4(),
        user_id=user.id,
        status=OrderStatus.PENDING,
        currency=currencies.pop(),
        total_minor=sum(row[0] * row[4] for row in rows),
        checkout_key=key,
        cart_version=cart_version,
        lines=[
            OrderLine(
                position=position,
                product_id=product_id,
                sku=sku,
                name=name,
                unit_price_minor=price,
                quantity=quantity,
                line_total_minor=quantity * price,
            )
            for position, (quantity, product_id, sku, name, price, *_rest) in enumerate(rows)
        ],
    )
    expires_at = utcnow() + RESERVATION_TTL
    session.add(order)
    reservation = StockReservation(order_id=order.id, expires_at=expires_at)
    session.add(reservation)
    try:
        await session.flush()
        await _move_stock(session, _moves(order), -1, f"order {order.id}")
    except _OutOfStock as exc:
        await session.rollback()
        session.info.pop(_MOVED, None)  # rolled back: nothing moved
        raise await _out_of_stock(session, exc.product_id) from exc
    except IntegrityError as exc:
        # The same key committed by a concurrent request, or (last line of defence) the
        # database refusing a negative stock.
        await session.rollback()
        existing = await _order_by_key(session, user.id, key)
        if existing is None:
            raise Conflict("Out of stock: another checkout took the last items") from exc
        return await _resume(session, gateway, existing), False
    _announce(session, order, None)
    await commit(session)
    return await _resume(session, gateway, order, reservation), True


async def _out_of_stock(session: AsyncSession, product_id: uuid.UUID) -> Conflict:
    product = await session.get(Product, product_id)
    if product is None or not product.active:
        return Conflict("A product in the cart is not for sale any more: remove it")
    return Conflict(f"Out of stock: {product.sku} has {product.stock} left")


async def _resume(
    session: AsyncSession,
    gateway: PaymentGateway,
    order: Order,
    reservation: StockReservation | None = None,
) -> CheckoutOut:
    """The checkout answer for an order: its PaymentIntent's client secret while it is pending,
    the intent created first if it has none yet (same idempotency key, so never twice).

    `reservation`: the order's, when the caller has just made it (saves reading it back).
    """
    if reservation is None:
        reservation = await session.get(StockReservation, order.id)
    secret: str | None = None
    if order.status is OrderStatus.PENDING:
        if order.payment_intent_id is None:
            try:
                intent = await gateway.create_intent(
                    order_id=str(order.id),
                    amount_minor=order.total_minor,
                    currency=order.currency,
                    user_id=str(order.user_id),
                )
            except stripe.StripeError as exc:
                await _abandon(session, order, exc)
            order.payment_intent_id = intent.id
            await session.commit()
        else:
            try:
                intent = await gateway.retrieve_intent(order.payment_intent_id)
            except stripe.StripeError as exc:
                raise PaymentProviderError(
                    "The payment provider did not answer; the order is kept, try again"
                ) from exc
        secret = intent.client_secret
    return CheckoutOut(
        order=OrderOut.model_validate(order),
        client_secret=secret,
        payment_intent_id=order.payment_intent_id,
        reserved_until=reservation.expires_at if reservation is not None else None,
    )


async def _abandon(session: AsyncSession, order: Order, exc: stripe.StripeError) -> NoReturn:
    """Stripe could not set up the payment: cancel the order and release its stock now, so
    nothing stays half done, then tell the client (502)."""
    log.warning("payment_setup_failed", order_id=str(order.id), error=type(exc).__name__)
    fresh = await load_order(session, order.id)
    if fresh.status is OrderStatus.PENDING:
        await close_unpaid(session, fresh, OrderStatus.CANCELED, "payment setup failed")
        await commit(session)
        order.status = fresh.status
    raise PaymentProviderError(
        "The payment provider could not set up the payment; the order was canceled and its "
        "stock released. Try again in a moment."
    ) from exc


# ---------------------------------------------------------------- reading orders


def encode_cursor(order: Order) -> str:
    return f"{order.created_at.isoformat()}_{order.id}"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    stamp, _, order_id = cursor.rpartition("_")
    try:
        return datetime.fromisoformat(stamp), uuid.UUID(order_id)
    except ValueError as exc:
        raise Unprocessable("Invalid cursor: pass the `next_cursor` of a previous page") from exc


async def list_orders(
    session: AsyncSession,
    *,
    user_id: uuid.UUID | None,
    status: OrderStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Order], str | None]:
    """Newest first, keyset paginated on (created_at, id): each page is one index range."""
    query = (
        select(Order)
        .options(selectinload(Order.lines))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit + 1)
    )
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    if status is not None:
        query = query.where(Order.status == status)
    if cursor is not None:
        stamp, last_id = decode_cursor(cursor)
        query = query.where(
            or_(Order.created_at < stamp, and_(Order.created_at == stamp, Order.id < last_id))
        )
    rows = list(await session.scalars(query))
    page = rows[:limit]
    return page, (encode_cursor(page[-1]) if len(rows) > limit else None)


async def customer_orders(
    session: AsyncSession, user_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One customer's orders, newest first, as plain rows: the hottest signed-in read.

    Same page and cursor as `list_orders`, but two Core queries returning tuples: no ORM
    objects, identity map or relationship loading, which cost more than the queries here.
    """
    columns = (
        Order.id,
        Order.user_id,
        Order.status,
        Order.currency,
        Order.total_minor,
        Order.created_at,
        Order.updated_at,
    )
    query = (
        select(*columns)
        .where(Order.user_id == user_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        stamp, last_id = decode_cursor(cursor)
        query = query.where(
            or_(Order.created_at < stamp, and_(Order.created_at == stamp, Order.id < last_id))
        )
    rows = (await session.execute(query)).all()
    page = [{**row._asdict(), "lines": []} for row in rows[:limit]]
    by_id = {order["id"]: order for order in page}
    if by_id:
        lines = await session.execute(
            select(
                OrderLine.order_id,
                OrderLine.product_id,
                OrderLine.sku,
                OrderLine.name,
                OrderLine.unit_price_minor,
                OrderLine.quantity,
                OrderLine.line_total_minor,
            )
            .where(OrderLine.order_id.in_(by_id))
            .order_by(OrderLine.order_id, OrderLine.position)
        )
        for line in lines:
            by_id[line.order_id]["lines"].append(line._asdict())
    last = page[-1] if len(rows) > limit else None
    return page, (f"{last['created_at'].isoformat()}_{last['id']}" if last else None)


def snapshot(order: Order) -> dict[str, Any]:
    """An order's state for the audit log's before/after."""
    return {
        "status": order.status.value,
        "total_minor": order.total_minor,
        "currency": order.currency,
    }


def audit(
    session: AsyncSession,
    actor: User,
    action: str,
    order: Order,
    before: dict[str, Any],
    **extra: Any,
) -> None:
    """Record an admin's action on an order in the audit log (in the caller's transaction)."""
    record(session, actor, action, "order", str(order.id), before, {**snapshot(order), **extra})
