"""Finding an order from its public status token."""

import hmac

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from checkout.extensions import db
from checkout.models.orders import Order

TOKEN_MAX = 64


def find_order_by_token(token: str) -> Order | None:
    """The order whose status token this is, or None; malformed tokens never reach the database."""
    if not token or len(token) > TOKEN_MAX or not all(c.isalnum() or c in "-_" for c in token):
        return None
    order = db.session.scalar(
        select(Order).where(Order.status_token == token).options(selectinload(Order.lines), selectinload(Order.events))
    )
    if order is None or not hmac.compare_digest(order.status_token, token):
        return None
    return order
