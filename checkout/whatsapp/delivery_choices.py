"""The customer's taps and typed address after a failed delivery, as they arrive through the signed webhook.

    [Deliver again] ─▶ a list of the next three days ─▶ a day ─▶ rescheduled
    [Change address] ─▶ "type the new address" ─▶ the next text, kept exactly ─▶ waits for staff, or rescheduled
    [Cancel and return] ─▶ returning

What each choice does to the order is checkout/orders/delivery_exceptions.py; here the tap is matched to the
order (locked), checked to be the sender's own, and answered. A tap for someone else's order, or one the order
has moved past, gets a polite answer and changes nothing. The address question is remembered on the conversation
(flow_data["address_for"]) until the customer's next text.
"""

from datetime import date, datetime, timedelta

from checkout.database import utcnow
from checkout.models.conversations import Conversation
from checkout.models.messaging import Message
from checkout.models.orders import Order
from checkout.models.store import get_store_settings
from checkout.orders import delivery_exceptions, locks
from checkout.orders.errors import OrderError
from checkout.orders.lifecycle import record_event
from checkout.outbox import enqueue_whatsapp
from checkout.phones import phone_forms
from checkout.web.urls import status_url
from checkout.whatsapp import messages

ADDRESS_FOR, ASKED_AT = "address_for", "address_asked_at"
ADDRESS_WAIT = timedelta(hours=24)  # a text days after the question is a new message, not the address
NOT_YOURS = "We couldn't find that order for this WhatsApp number, so nothing changed."


def is_delivery_choice(reply_id: str) -> bool:
    return messages.delivery_choice_from_reply(reply_id) is not None


def handle_tap(row: Message, reply_id: str, conversation: Conversation | None, *, fresh: bool) -> None:
    """One tap on a failed delivery's buttons or the day list."""
    action, reference, value = messages.delivery_choice_from_reply(reply_id)
    order = locks.lock_order_by_reference(reference)
    owned = order is not None and bool(row.phone) and order.customer_phone in phone_forms(row.phone)
    if not owned:
        if order is not None:
            row.order_id = order.id
            sender = row.phone or f"WhatsApp user {row.user_id}"
            record_event(order, "whatsapp", "customer", note=f"A delivery choice was tapped from {sender}: ignored")
        _reply(row, messages.text_message("reply:delivery_choice", NOT_YOURS), None, fresh)
        return
    row.order_id = order.id
    try:
        _choose(row, order, action, value, conversation, fresh)
    except OrderError as refused:
        _reply(row, messages.delivery_choice_refused(str(refused), status_url(order)), order, fresh)


def _choose(row: Message, order: Order, action: str, value: str, conversation, fresh: bool) -> None:
    settings = get_store_settings()
    if action == "again":
        delivery_exceptions.check_choosing(order)
        days = delivery_exceptions.days_offered(utcnow(), settings.zone_name)
        record_event(order, "whatsapp", "customer", note="The customer chose “Deliver again”: asked for a day")
        _reply(row, messages.delivery_days_question(order, days, settings), order, fresh)
    elif action == "day":
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
        if day is None:
            raise delivery_exceptions.DeliveryChoiceRefused("That day could not be read: please pick one again.")
        delivery_exceptions.reschedule(order, day, now=utcnow())  # the status message tells the customer
    elif action == "address":
        delivery_exceptions.check_choosing(order)
        record_event(order, "whatsapp", "customer", note="The customer chose “Change address”: asked to type it")
        if conversation is not None:
            asked = {ADDRESS_FOR: order.reference, ASKED_AT: utcnow().isoformat()}
            conversation.flow_data = {**(conversation.flow_data or {}), **asked}
            conversation.flow_touched_at = utcnow()
        _reply(row, messages.new_address_question(order), order, fresh)
    elif action == "return":
        delivery_exceptions.return_to_shop(order)


def waits_for_address(conversation: Conversation | None) -> bool:
    """Did the bot ask this customer for a new address within the day? A question left longer is forgotten."""
    flow = (conversation.flow_data or {}) if conversation is not None else {}
    if not flow.get(ADDRESS_FOR):
        return False
    try:
        asked = datetime.fromisoformat(flow.get(ASKED_AT, ""))
    except ValueError:
        asked = None
    if asked is None or asked < utcnow() - ADDRESS_WAIT:
        conversation.flow_data = _without_question(flow)
        return False
    return True


def _without_question(flow: dict) -> dict:
    return {key: value for key, value in flow.items() if key not in (ADDRESS_FOR, ASKED_AT)}


def typed_address(row: Message, conversation: Conversation, *, fresh: bool) -> None:
    """The text after "Change address": kept exactly (within the address limit) on the order it was asked for."""
    reference = (conversation.flow_data or {}).get(ADDRESS_FOR, "")
    flow = _without_question(conversation.flow_data or {})
    order = locks.lock_order_by_reference(reference)
    if order is None or order.customer_phone not in phone_forms(row.phone):
        conversation.flow_data = flow
        return
    row.order_id = order.id
    try:
        waits = delivery_exceptions.request_address_change(order, row.body_text or "")
    except delivery_exceptions.AddressRefused as refused:
        _reply(row, messages.delivery_choice_refused(str(refused), status_url(order)), order, fresh)
        return  # still waiting for the address: the next text is tried again
    except OrderError as refused:
        conversation.flow_data = flow
        _reply(row, messages.delivery_choice_refused(str(refused), status_url(order)), order, fresh)
        return
    conversation.flow_data = flow
    if waits:
        _reply(row, messages.new_address_received(order, order.requested_address), order, fresh)


def _reply(row: Message, outbound: messages.OutboundMessage, order: Order | None, fresh: bool) -> None:
    if fresh and row.phone:
        enqueue_whatsapp(outbound, phone=row.phone, key=f"reply:{row.wamid}", order=order)
