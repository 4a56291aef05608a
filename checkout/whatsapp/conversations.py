"""What an inbound WhatsApp message does: confirm or cancel an order, link a number, answer "status?", "I paid",
"STOP", rate a delivered order, start a return ("problem", the delivered message's button: checkout/whatsapp/
return_chat.py), a choice after a failed delivery (checkout/whatsapp/delivery_choices.py).

Called for each new inbound message, inside the transaction that stores it. Replies go through the
outbox like every other message. A message older than REPLY_FRESHNESS (days of backlog after an
outage) still moves orders but gets no automatic chat reply: answering a week-old "status?" as if
it were new would confuse the customer.
"""

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from checkout.carriers.events import latest_courier_lines
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.conversations import Conversation
from checkout.models.messaging import Message
from checkout.models.orders import Order
from checkout.models.store import get_store_settings
from checkout.orders import locks
from checkout.orders.errors import OrderError
from checkout.orders.lifecycle import OrderStatus, record_event, transition
from checkout.orders.references import DASHED_REFERENCE_PATTERN, find_references
from checkout.outbox import enqueue_whatsapp
from checkout.payments.requests import ask_again_now_the_number_is_proven
from checkout.phones import phone_forms
from checkout.web.urls import status_url
from checkout.whatsapp import (
    chat_order,
    chats,
    consent,
    delivery_choices,
    follow_ups,
    messages,
    paid_claims,
    return_chat,
)
from checkout.whatsapp.intents import language_of, says_paid, wants_to_return
from checkout.whatsapp.templates import template_language

REPLY_FRESHNESS = timedelta(hours=2)
RECENT_ORDERS = 3
RECENT_DAYS = 90
REFERENCES_LOOKED_UP = 3  # a long text of reference-shaped words must not lock many orders
CUSTOMER_CANCEL_REASON = "Cancelled by the customer on WhatsApp"
STATUS_QUESTION = re.compile(
    r"\b(status|where\s+is\s+my\s+order|track(ing)?|order\s+kahan\s+hai|kahan\s+hai|mera\s+order|my\s+order|"
    r"oda\s+yangu|iko\s+wapi|cadê\s+meu\s+pedido|meu\s+pedido)\b",
    re.IGNORECASE,
)


def handle_inbound(row: Message, message: dict, conversation: Conversation | None = None) -> None:
    """Orders first (Confirm/Cancel, STOP, the handshake, "where is my order"); the ordering chat gets the rest."""
    reply_id = _reply_id(message)
    if reply_id:
        decision = messages.decision_from_reply(reply_id)
        if delivery_choices.is_delivery_choice(reply_id):
            delivery_choices.handle_tap(row, reply_id, conversation, fresh=_fresh(row))
        elif decision:
            _decide(row, *decision)
        elif return_chat.takes_reply(reply_id, conversation):
            if _fresh(row):
                return_chat.tap(row, conversation, reply_id)
        elif not follow_ups.take_rating_tap(row, reply_id, fresh=_fresh(row)):
            _chat(row, message, conversation, reply_id)
        return
    if row.kind == "order":
        _chat(row, message, conversation)  # a cart sent from the shop's WhatsApp catalog
        return
    if row.kind in ("image", "document"):
        if not return_chat.media_sent(row, conversation):  # a photo for a return under way is the return's
            paid_claims.note_possible_proof(row)  # kept in the conversation too, for staff to look at
        return
    if row.kind != "text":
        return  # locations, reactions…: kept in the conversation for staff
    settings = get_store_settings()
    if consent.is_stop_request(row.body_text, settings):
        _opt_out(row, settings)
        return
    if delivery_choices.waits_for_address(conversation):
        delivery_choices.typed_address(row, conversation, fresh=_fresh(row))  # whatever words it holds
        return
    references = find_references(row.body_text)[:REFERENCES_LOOKED_UP]
    orders = _referenced_orders(references)
    own = next((order for order in orders if _sender_owns(order, row)), None)
    if own is not None:
        if wants_to_return(row.body_text):  # the status page's "Return / problem with my order ABCD-2345"
            row.order_id = own.id
            if _fresh(row):
                return_chat.start_for_order(row, conversation, own)
        else:
            _handshake(row, own)
        return
    for order in orders:
        _flag_mismatch(order, row)  # for staff only: the sender is told nothing about the order
    if _names_a_reference(row.body_text):
        if _fresh(row):
            # Someone else's order and no order at all get the same words, so a stranger learns nothing.
            _reply(row, messages.reference_not_matched(references[0]))
        return
    if return_chat.in_flow(conversation):
        if _fresh(row):
            return_chat.typed(row, conversation, row.body_text or "")  # the reason or the comment, as typed
    elif chat_order.waits_for_typing(conversation):
        _chat(row, message, conversation)  # a name or an address the chat asked for, whatever words it holds
    elif wants_to_return(row.body_text):
        if _fresh(row):
            return_chat.start_for_latest_order(row, conversation)
    elif says_paid(row.body_text):
        _answer_paid_claim(row, conversation, settings)
    elif STATUS_QUESTION.search(row.body_text):
        if _fresh(row) and _bot_answers(conversation):
            orders = _recent_orders(row.phone)
            courier_lines = latest_courier_lines([order.id for order in orders])
            _reply(row, messages.orders_overview(orders, settings, _status_urls(row), courier_lines))
    elif not follow_ups.take_text(row, conversation, fresh=_fresh(row), bot_answers=_bot_answers(conversation)):
        _chat(row, message, conversation)  # a rating of a delivered order, or its comment, is taken above


def _answer_paid_claim(row: Message, conversation: Conversation | None, settings) -> None:
    """ "I paid": staff get a note on an unpaid order whatever the message's age; the customer an answer from
    the payment record when the message is fresh and the bot has the chat."""
    order = paid_claims.claimed_order(row)
    if order is not None:
        row.order_id = order.id
        paid_claims.note_for_staff(order)
    if not (_fresh(row) and _bot_answers(conversation)):
        return
    language = (conversation.language if conversation else "") or language_of(row.body_text) or "en"
    for number, outbound in enumerate(paid_claims.answer(order, settings, language), 1):
        key = f"reply:{row.wamid}" if number == 1 else f"reply:{row.wamid}:{number}"
        if row.phone:
            enqueue_whatsapp(outbound, phone=row.phone, key=key, order=order)


def _bot_answers(conversation: Conversation | None) -> bool:
    """While a person has the chat the bot stays quiet, except about orders (Confirm/Cancel taps, STOP)."""
    return conversation is None or conversation.handled_by == chats.BOT


def _chat(row: Message, message: dict, conversation: Conversation | None, reply_id: str = "") -> None:
    if _fresh(row):  # a backlog message days old does not start an order
        chat_order.handle(row, message, conversation, reply_id)


def _opt_out(row: Message, settings) -> None:
    """ "STOP": consent is withdrawn at once (a reminder already queued is dropped by the outbox) and the
    customer told so, once. Free-form is allowed: they have just written."""
    if not row.phone:
        return
    consent.withdraw(row.phone, how="stop_message", note=row.body_text)
    if _fresh(row):
        _reply(row, messages.opt_out_confirmation(settings))


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
    return locks.lock_order_by_reference(reference)


def _names_a_reference(text: str) -> bool:
    """A dashed reference (ABCD-2345) is meant as one; an undashed 8-letter run may be a word ("PAYMENTS")."""
    return DASHED_REFERENCE_PATTERN.search((text or "").upper()) is not None


def _referenced_orders(references: list[str]) -> list[Order]:
    orders = (_order_by_reference(reference) for reference in references)
    return [order for order in orders if order is not None]


def _sender_owns(order: Order, row: Message) -> bool:
    return bool(row.phone) and order.customer_phone in phone_forms(row.phone)


def _flag_mismatch(order: Order, row: Message) -> None:
    row.order_id = order.id
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
            _reply(row, messages.already_decided(order, status_url(order)), order)
        return
    note = CUSTOMER_CANCEL_REASON if target is OrderStatus.CANCELLED else "Confirmed by the customer on WhatsApp"
    try:
        transition(order, target, actor="customer", note=note)  # the status message is the acknowledgement
    except OrderError as error:
        order.attention = f"The customer tapped {action} but it could not be done: {error}"[:300]
        record_event(order, "whatsapp", "customer", note=order.attention)


def _handshake(row: Message, order: Order) -> None:
    """The customer sent the prefilled summary (or a reference) from the order's number: it is now proven."""
    row.order_id = order.id
    if order.phone_verified_at is None:
        order.phone_verified_at = utcnow()
        record_event(order, "whatsapp", "customer", note="Customer sent the order from WhatsApp (number verified)")
        ask_again_now_the_number_is_proven(order)  # an M-Pesa prompt that waited for this goes now
    if not _fresh(row):
        return
    settings = get_store_settings()
    if order.status == OrderStatus.PENDING:
        outbound = messages.confirmation_request(order, settings, in_window=True, language=template_language())
        _reply(row, outbound, order)
    else:
        courier_lines = latest_courier_lines([order.id])
        _reply(row, messages.orders_overview([order], settings, {order.id: status_url(order)}, courier_lines), order)


def _recent_orders(phone: str) -> list[Order]:
    if not phone:
        return []
    since = utcnow() - timedelta(days=RECENT_DAYS)
    return list(
        db.session.scalars(
            select(Order)
            .where(Order.customer_phone.in_(phone_forms(phone)), Order.created_at >= since)
            .options(selectinload(Order.lines))
            .order_by(Order.created_at.desc())
            .limit(RECENT_ORDERS)
        )
    )


def _status_urls(row: Message) -> dict[int, str]:
    return {order.id: status_url(order) for order in _recent_orders(row.phone)}
