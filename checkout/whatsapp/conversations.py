"""What an inbound WhatsApp message does: confirm or cancel an order, link a number, answer "status?".

Called for each new inbound message, inside the transaction that stores it. Replies go through the
outbox like every other message. A message older than REPLY_FRESHNESS (days of backlog after an
outage) still moves orders but gets no automatic chat reply: answering a week-old "status?" as if
it were new would confuse the customer.
"""

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.messaging import Message
from checkout.models.orders import Order
from checkout.models.store import get_store_settings
from checkout.orders.errors import OrderError
from checkout.orders.lifecycle import OrderStatus, record_event, transition
from checkout.orders.references import find_references
from checkout.outbox import enqueue_whatsapp
from checkout.whatsapp import messages

REPLY_FRESHNESS = timedelta(hours=2)
RECENT_ORDERS = 3
RECENT_DAYS = 90
CUSTOMER_CANCEL_REASON = "Cancelled by the customer on WhatsApp"
STATUS_QUESTION = re.compile(
    r"\b(status|where\s+is\s+my\s+order|track(ing)?|order\s+kahan\s+hai|kahan\s+hai|mera\s+order|my\s+order|"
    r"oda\s+yangu|iko\s+wapi|cadê\s+meu\s+pedido|meu\s+pedido)\b",
    re.IGNORECASE,
)


def handle_inbound(row: Message, message: dict) -> None:
    reply_id = _reply_id(message)
    if reply_id:
        decision = messages.decision_from_reply(reply_id)
        if decision:
            _decide(row, *decision)
        return
    if row.kind != "text":
        return  # images, locations, reactions…: kept in the conversation for staff
    order = _referenced_order(row.body_text)
    if order is not None:
        _handshake(row, order)
    elif STATUS_QUESTION.search(row.body_text) and _fresh(row):
        _reply(row, messages.orders_overview(_recent_orders(row.phone), get_store_settings(), _status_urls(row)))


def _reply_id(message: dict) -> str:
    if message.get("type") == "button":
        return (message.get("button") or {}).get("payload", "")
    if message.get("type") == "interactive":
        interactive = message.get("interactive") or {}
        return (interactive.get("button_reply") or interactive.get("list_reply") or {}).get("id", "")
    return ""


def _fresh(row: Message) -> bool:
    return row.created_at >= utcnow() - REPLY_FRESHNESS


def _reply(row: Message, outbound: messages.OutboundMessage, order: Order | None = None) -> None:
    if not row.phone:
        return  # a username-only sender: nothing to address yet; staff see the message
    enqueue_whatsapp(outbound, phone=row.phone, key=f"reply:{row.wamid}", order=order)


def _order_by_reference(reference: str) -> Order | None:
    return db.session.scalar(
        select(Order).where(Order.reference == reference).options(selectinload(Order.lines)).with_for_update()
    )


def _referenced_order(text: str) -> Order | None:
    for reference in find_references(text):
        order = _order_by_reference(reference)
        if order is not None:
            return order
    return None


def _sender_owns(order: Order, row: Message) -> bool:
    return bool(row.phone) and row.phone == order.customer_phone


def _flag_mismatch(order: Order, row: Message) -> None:
    sender = row.phone or f"WhatsApp user {row.user_id}"
    order.attention = (
        f"Order {order.reference} was sent from {sender}, not the number on the order. Check before confirming."
    )
    record_event(order, "whatsapp", "customer", note=f"Reference sent from {sender} (not the order's number)")


def _decide(row: Message, action: str, reference: str) -> None:
    order = _order_by_reference(reference)
    row.order_id = order.id if order else None
    if order is None:
        return
    if not _sender_owns(order, row):
        _flag_mismatch(order, row)
        return
    target = OrderStatus.CONFIRMED if action == "confirm" else OrderStatus.CANCELLED
    if order.status != OrderStatus.PENDING:
        if _fresh(row):
            _reply(row, messages.already_decided(order, _status_url(order)), order)
        return
    note = CUSTOMER_CANCEL_REASON if target is OrderStatus.CANCELLED else "Confirmed by the customer on WhatsApp"
    try:
        transition(order, target, actor="customer", note=note)  # the status message is the acknowledgement
    except OrderError as error:
        order.attention = f"The customer tapped {action} but it could not be done: {error}"[:300]
        record_event(order, "whatsapp", "customer", note=order.attention)


def _handshake(row: Message, order: Order) -> None:
    """The customer sent the prefilled summary (or a reference): their number is now proven."""
    row.order_id = order.id
    if not _sender_owns(order, row):
        _flag_mismatch(order, row)
        if _fresh(row):
            _reply(row, messages.number_mismatch(), order)
        return
    if order.phone_verified_at is None:
        order.phone_verified_at = utcnow()
        record_event(order, "whatsapp", "customer", note="Customer sent the order from WhatsApp (number verified)")
    if not _fresh(row):
        return
    settings = get_store_settings()
    if order.status == OrderStatus.PENDING:
        from checkout.notifications import _language

        outbound = messages.confirmation_request(order, settings, in_window=True, language=_language())
        _reply(row, outbound, order)
    else:
        _reply(row, messages.orders_overview([order], settings, {order.id: _status_url(order)}), order)


def _recent_orders(phone: str) -> list[Order]:
    if not phone:
        return []
    since = utcnow() - timedelta(days=RECENT_DAYS)
    return list(
        db.session.scalars(
            select(Order)
            .where(Order.customer_phone == phone, Order.created_at >= since)
            .options(selectinload(Order.lines))
            .order_by(Order.created_at.desc())
            .limit(RECENT_ORDERS)
        )
    )


def _status_url(order: Order) -> str:
    from checkout.notifications import status_url

    return status_url(order)


def _status_urls(row: Message) -> dict[int, str]:
    return {order.id: _status_url(order) for order in _recent_orders(row.phone)}
