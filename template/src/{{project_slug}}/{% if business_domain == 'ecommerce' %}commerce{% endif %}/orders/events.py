"""Event-log topics of orders, and who may stream them.

- `orders:<user id>`: `order.status_changed` for every status an order of that customer takes
  (relayed to Socket.IO as `order_status_changed` in the room of the same name).

A customer reads only their own topic; admins read every customer's.
"""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ...core.auth.models import Role, User
from ...core.stream import topic_rule
from .models import Order, OrderStatus

ORDERS_PREFIX = "orders:"
ORDER_STATUS_CHANGED = "order.status_changed"


def orders_topic(user_id: uuid.UUID) -> str:
    return f"{ORDERS_PREFIX}{user_id}"


def status_changed(order: Order, previous: OrderStatus | None) -> dict[str, Any]:
    """Payload of `order.status_changed`; `previous_status` is null when the order is new."""
    return {
        "order_id": order.id,
        "status": order.status.value,
        "previous_status": previous.value if previous is not None else None,
        "total_minor": order.total_minor,
        "currency": order.currency,
    }


@topic_rule(ORDERS_PREFIX)
async def _own_orders_topic(_session: AsyncSession, user: User, topic: str) -> bool:
    return user.role is Role.ADMIN or topic == orders_topic(user.id)
