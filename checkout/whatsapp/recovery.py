"""Recovering what a customer left unfinished, lawfully: the rules every reminder and recovery message keeps.

Only with consent (checkout/whatsapp/consent.py), never in the shop's quiet hours, never more than one such
message to a customer per RECOVERY_GAP, and a cart is never chased once an order was placed or cancelled
for its number after its checkout began. A cart abandoned at checkout gets at most one message, through
the marketing template; the pending order's reminder (checkout/notifications.py) is a utility template.
Everything is derived from the database, so a lost queue or several workers send each message once.
"""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, or_, select, update

from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.carts import Cart
from checkout.models.messaging import Message
from checkout.models.orders import Order, OrderEvent
from checkout.models.store import get_store_settings
from checkout.orders import locks
from checkout.orders.lifecycle import OrderStatus
from checkout.outbox import enqueue_whatsapp
from checkout.phones import phone_forms
from checkout.shop.quiet_hours import is_quiet
from checkout.web.urls import cart_url
from checkout.whatsapp import chats, messages
from checkout.whatsapp.consent import CART_RECOVERY, RECOVERY_PURPOSES, REMINDER, consent_given
from checkout.whatsapp.providers import messaging_enabled

RECOVERY_GAP = timedelta(hours=24)
# A cart whose checkout began longer ago than its delay plus this is left alone: turning recovery on (or a
# worker back after days) must not message every old cart at once.
CART_LOOKBACK = timedelta(days=3)
# An order counts as won back when it follows a reminder or cart message within this; orders placed in the
# last ORDER_LOOKBACK are looked at by each sweep (a day: a worker that was down catches up).
RECOVERY_CREDIT = timedelta(hours=72)
ORDER_LOOKBACK = timedelta(days=1)


def recovery_sent_recently(phone: str, now: datetime) -> bool:
    """Has this customer had a reminder or recovery message in the last RECOVERY_GAP?"""
    query = select(Message.id).where(
        Message.direction == "out",
        Message.phone.in_(phone_forms(phone)),
        Message.purpose.in_(RECOVERY_PURPOSES),
        Message.created_at > now - RECOVERY_GAP,
    )
    return db.session.scalar(query.limit(1)) is not None


def ordered_or_cancelled_since(phone_column, since_column) -> ColumnElement[bool]:
    """SQL condition: an order of this number was placed, or one was cancelled, at or after `since_column`."""
    cancelled_since = exists().where(
        OrderEvent.order_id == Order.id,
        OrderEvent.to_status == OrderStatus.CANCELLED.value,
        OrderEvent.created_at >= since_column,
    )
    return exists().where(Order.customer_phone == phone_column, or_(Order.created_at >= since_column, cancelled_since))


def _carts_due(now: datetime, delay: timedelta):
    due = now - delay
    return select(Cart).where(
        Cart.phone != "",
        Cart.order_id.is_(None),
        Cart.recovery_sent_at.is_(None),
        and_(Cart.checkout_started_at <= due, Cart.checkout_started_at > due - CART_LOOKBACK),
        Cart.lines.any(),
        consent_given(Cart.phone),
        ~ordered_or_cancelled_since(Cart.phone, Cart.checkout_started_at),
    )


def mark_recovered_orders(now: datetime | None = None) -> int:
    """Credit orders to the message that won them back, for the dashboard; returns how many were credited.

    A reminded order confirmed within RECOVERY_CREDIT of its reminder, and an order placed within RECOVERY_CREDIT
    after a cart message to its number. Run by every sweep: an order is looked at while it is recent.
    """
    now = now or utcnow()
    confirmed_after_reminder = exists().where(
        OrderEvent.order_id == Order.id,
        OrderEvent.to_status == OrderStatus.CONFIRMED.value,
        OrderEvent.created_at >= Order.reminder_sent_at,
    )
    # Every confirmation seen now is at most RECOVERY_CREDIT after a reminder sent since now - RECOVERY_CREDIT.
    reminded = db.session.execute(
        update(Order)
        .where(
            Order.recovered_by == "",
            Order.reminder_sent_at > now - RECOVERY_CREDIT,
            Order.status != OrderStatus.CANCELLED.value,
            confirmed_after_reminder,
        )
        .values(recovered_by=REMINDER),
        execution_options={"synchronize_session": False},
    ).rowcount
    pairs = db.session.execute(
        select(Order.id, Order.created_at, Message.created_at)
        .join(Message, Message.phone == Order.customer_phone)
        .where(
            Order.recovered_by == "",
            Order.created_at > now - ORDER_LOOKBACK,
            Order.status != OrderStatus.CANCELLED.value,
            Message.direction == "out",
            Message.purpose == CART_RECOVERY,
            Message.created_at <= Order.created_at,
            Message.created_at > now - ORDER_LOOKBACK - RECOVERY_CREDIT,
        )
    ).all()
    won_back = sorted({order_id for order_id, placed_at, sent_at in pairs if placed_at - sent_at <= RECOVERY_CREDIT})
    if won_back:
        db.session.execute(
            update(Order).where(Order.id.in_(won_back), Order.recovered_by == "").values(recovered_by=CART_RECOVERY),
            execution_options={"synchronize_session": False},
        )
    db.session.commit()
    return (reminded or 0) + len(won_back)


def send_cart_recoveries(limit: int = 200, now: datetime | None = None) -> int:
    """One marketing message per cart abandoned at checkout with a number and consent, after the shop's delay."""
    if not messaging_enabled():
        return 0
    now = now or utcnow()
    settings = get_store_settings()
    if is_quiet(settings, now):
        return 0  # the next sweep after the quiet hours sends it
    sent = 0
    for cart in locks.lock_unheld_carts(_carts_due(now, timedelta(hours=settings.cart_recovery_hours)).limit(limit)):
        if recovery_sent_recently(cart.phone, now):
            continue  # one a day at most: it waits for the next sweep past the gap
        outbound = messages.cart_recovery(
            cart, settings, cart_url=cart_url(cart), language=chats.template_language_for(cart.phone)
        )
        enqueue_whatsapp(outbound, phone=cart.phone, key=f"cart-recovery:{cart.id}")
        cart.recovery_sent_at = now
        sent += 1
    db.session.commit()
    return sent
