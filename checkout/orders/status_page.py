"""Finding an order from its public status token, and marking the first opening of its hand-off page."""

import hmac

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload

from checkout.database import transaction, utcnow
from checkout.extensions import db
from checkout.models.orders import Order

TOKEN_MAX = 64


def _well_formed(token: str) -> bool:
    return bool(token) and len(token) <= TOKEN_MAX and all(c.isalnum() or c in "-_" for c in token)


def find_order_by_token(token: str) -> Order | None:
    """The order whose status token this is, or None; malformed tokens never reach the database."""
    if not _well_formed(token):
        return None
    order = db.session.scalar(
        select(Order).where(Order.status_token == token).options(selectinload(Order.lines), selectinload(Order.events))
    )
    if order is None or not hmac.compare_digest(order.status_token, token):
        return None
    return order


def find_order_for_handoff(token: str) -> Order | None:
    """The order whose WhatsApp hand-off page is being opened (with its lines), the first opening kept for the funnel.

    The order and its lines are read in one statement; only the first opening then writes, with a conditional
    UPDATE committed at once: later openings (a refresh, the back button) write nothing, two first openings at
    once keep one time, and the order's version stays as it was (opening the page is not a change staff must
    reload for). The order stays loaded through that commit: the page reads nothing again.
    """
    if not _well_formed(token):
        return None
    query = select(Order).where(Order.status_token == token).options(joinedload(Order.lines))
    order = db.session.scalars(query).unique().first()
    if order is None or not hmac.compare_digest(order.status_token, token):
        return None
    if order.handoff_opened_at is None:
        with transaction(keep_loaded=True):
            db.session.execute(
                update(Order)
                .where(Order.id == order.id, Order.handoff_opened_at.is_(None))
                .values(handoff_opened_at=utcnow(), updated_at=Order.updated_at)
                .execution_options(synchronize_session=False)
            )
    return order
