"""Who hears about what: the customer, the shop's staff and the shop's own systems.

Subscribed to the order domain's events, to a message that gave up and to a pause in sending;
everything here runs inside the transaction of the change and only writes outbox rows. Also the
time-driven work: the one reminder (with consent), the one cart recovery message
(checkout/whatsapp/recovery.py), cancelling orders whose reservation ran out unanswered, and deleting carts
idle past the shop's expiry; ending paid service sessions whose time ran out (checkout/service_sessions.py); the one
follow-up after delivery (checkout/whatsapp/follow_ups.py).
"""

from datetime import timedelta

from sqlalchemy import exists, select

from checkout import carts, events, service_sessions
from checkout.carriers.events import retry_unprocessed_events
from checkout.catalog.stock import order_still_holds_stock
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.conversations import Conversation
from checkout.models.messaging import Message, SendingPause
from checkout.models.orders import Order
from checkout.models.store import StoreSettings, get_store_settings
from checkout.orders import locks
from checkout.orders.documents import order_document
from checkout.orders.errors import OrderError
from checkout.orders.lifecycle import DELIVERY_EXCEPTION_STATUSES, OrderStatus, record_event, transition
from checkout.outbox import enqueue_shop_webhook, enqueue_whatsapp
from checkout.payments import request_messages
from checkout.payments.events import retry_leftover_events
from checkout.payments.refunds import refund_timing
from checkout.payments.reminders import act_on_unpaid_orders, send_payment_reminders
from checkout.payments.requests import open_request_of, retry_failed_requests, send_request_messages
from checkout.phones import phone_forms
from checkout.receipts.message import receipt_message
from checkout.shop.quiet_hours import is_quiet
from checkout.web.urls import external_url, status_url
from checkout.whatsapp import account_health, chats, follow_ups, messages
from checkout.whatsapp.consent import consent_given
from checkout.whatsapp.conversation_window import in_window
from checkout.whatsapp.providers import SendFailed, messaging_enabled
from checkout.whatsapp.recovery import mark_recovered_orders, recovery_sent_recently, send_cart_recoveries
from checkout.whatsapp.templates import template_language
from checkout.whatsapp.wording import SWITCHABLE_STATUS_MESSAGES

EXPIRY_REASON = "Not confirmed before the reservation ran out"


def _shop_webhook(name: str, order: Order, key: str, **extra) -> None:
    settings = get_store_settings()
    if settings.webhook_url and settings.webhook_secret:
        enqueue_shop_webhook(
            name,
            {"order": order_document(order, settings), **extra},
            url=settings.webhook_url,
            secret=settings.webhook_secret,
            key=key,
        )


def request_confirmation(order: Order, *, key: str, new_key: bool = False) -> None:
    settings = get_store_settings()
    outbound = messages.confirmation_request(
        order,
        settings,
        in_window=in_window(order.customer_phone),
        language=chats.template_language_for(order.customer_phone),
    )
    # The message is the record of the request: nothing reads a stamp on the order (a checkout's UPDATE less).
    enqueue_whatsapp(outbound, phone=order.customer_phone, key=key, order=order, new_key=new_key)


@events.subscribe(events.ORDER_CREATED)
def on_order_created(order: Order) -> None:
    _shop_webhook(events.ORDER_CREATED, order, key=f"webhook:created:{order.id}")
    if not messaging_enabled():
        return
    if order.source != "whatsapp":  # an order from the chat was confirmed there, by the tap that placed it
        request_confirmation(order, key=f"confirm-request:{order.id}", new_key=True)  # the order is new
    settings = get_store_settings()
    admin_url = external_url("admin.order_detail", reference=order.reference)
    for number in settings.staff_alert_numbers or []:
        outbound = messages.staff_alert(
            order, settings, admin_url=admin_url, in_window=in_window(number), language=template_language()
        )
        enqueue_whatsapp(outbound, phone=number, key=f"staff-alert:{order.id}:{number}")


@events.subscribe(events.CONVERSATION_WAITING)
def on_conversation_waiting(conversation: Conversation, reason: str) -> None:
    """Staff alert numbers hear once each time a chat starts waiting for a person.

    Inside a number's 24-hour window it is a text, outside it the chat_waiting_alert template; both link to
    the conversation in the inbox.
    """
    if not messaging_enabled():
        return
    settings = get_store_settings()
    since = (conversation.waiting_since or utcnow()).strftime("%Y%m%d%H%M%S")
    db.session.flush()  # a conversation started by this very message has its id now
    inbox_url = external_url("admin.inbox_conversation", conversation_id=conversation.id)
    for number in settings.staff_alert_numbers or []:
        if number in phone_forms(conversation.phone):
            continue
        outbound = messages.waiting_for_person_alert(
            conversation, reason, inbox_url=inbox_url, in_window=in_window(number), language=template_language()
        )
        enqueue_whatsapp(outbound, phone=number, key=f"waiting:{conversation.id}:{since}:{number}")


def customer_hears_of(status: OrderStatus, settings: StoreSettings) -> bool:
    """Does the customer get a message when their order reaches `status`? The one place that decides.

    Statuses with a message text send it unless the shop switched it off in its message settings; the switch
    only silences the message, the order moves all the same.
    """
    key = messages.STATUS_TEXT_KEYS.get(status)
    if key is None:
        return False
    return key not in SWITCHABLE_STATUS_MESSAGES or key not in (settings.silent_statuses or [])


@events.subscribe(events.ORDER_STATUS_CHANGED)
def on_status_changed(order: Order, event) -> None:
    _shop_webhook(
        events.ORDER_STATUS_CHANGED, order, key=f"webhook:status:{event.id}", previous_status=event.from_status
    )
    settings = get_store_settings()
    if messaging_enabled() and OrderStatus(order.status) in DELIVERY_EXCEPTION_STATUSES:
        _tell_delivery_exception(order, event, settings)
        return
    if not messaging_enabled() or not customer_hears_of(OrderStatus(order.status), settings):
        return
    outbound = messages.status_update(
        order,
        settings,
        status_url=status_url(order),
        reason=event.note,
        in_window=in_window(order.customer_phone),
        language=chats.template_language_for(order.customer_phone),
    )
    enqueue_whatsapp(outbound, phone=order.customer_phone, key=f"status:{event.id}", order=order)


def _tell_delivery_exception(order: Order, event, settings: StoreSettings) -> None:
    """A failed delivery asks the customer what to do (three buttons); the later steps tell them what happens.

    Always sent, whatever the shop's status switches: the customer's answer is needed, or their parcel moves.
    """
    in_window_now = in_window(order.customer_phone)
    language = chats.template_language_for(order.customer_phone)
    if order.status == OrderStatus.DELIVERY_FAILED:
        outbound = messages.delivery_failed_choices(
            order, settings, reason=_customer_reason(event.note), in_window=in_window_now, language=language
        )
    else:
        outbound = messages.delivery_exception_update(
            order, settings, status_url=status_url(order), in_window=in_window_now, language=language
        )
    enqueue_whatsapp(outbound, phone=order.customer_phone, key=f"status:{event.id}", order=order)


def _customer_reason(note: str) -> str:
    """A courier's note ("Courier: Delivery failed — door locked; …") gives its reason; staff's note is the reason."""
    if note.startswith("Courier:"):
        return note.partition(" — ")[2].split(";")[0].strip()
    return note


@events.subscribe(events.ADDRESS_CHANGE_REJECTED)
def on_address_change_rejected(order: Order, reason: str) -> None:
    """The shop did not take the new address: the customer hears why and gets the three choices again."""
    if not messaging_enabled():
        return
    lead = "The shop could not use the new address you sent" + (f": {reason}." if reason else ".")
    outbound = messages.delivery_failed_choices(
        order,
        get_store_settings(),
        reason="",
        in_window=in_window(order.customer_phone),
        language=chats.template_language_for(order.customer_phone),
        lead=lead,
    )
    db.session.flush()  # the rejection's timeline entry has its id: one message per rejection
    key = f"address-rejected:{order.id}:{order.events[-1].id}"
    enqueue_whatsapp(outbound, phone=order.customer_phone, key=key, order=order)


@events.subscribe(events.PAYMENT_RECORDED)
def on_payment_recorded(order: Order, payment, tell_customer: bool = True) -> None:
    """The shop's systems hear of every payment; the customer too, unless another message of the same change
    says it (cash collected on delivery is in the "delivered" message: one message, not two).

    Inside the 24-hour window the customer gets one message: the receipt as a PDF document. Outside it, the
    payment template (documents can't be sent then)."""
    _shop_webhook(
        events.PAYMENT_RECORDED,
        order,
        key=f"webhook:payment:{payment.id}",
        payment={"amount_minor": payment.amount_minor, "method": payment.method, "reference": payment.reference},
    )
    if not messaging_enabled() or not tell_customer:
        return
    settings = get_store_settings()
    window_open = in_window(order.customer_phone)
    outbound = messages.status_update(
        order,
        settings,
        status_url=status_url(order),
        in_window=window_open,
        language=chats.template_language_for(order.customer_phone),
        key="payment_received",
        payment_amount_minor=payment.amount_minor,
    )
    if window_open:
        # One message, not two: the receipt PDF, captioned with the shop's words and the receipt's summary.
        receipt = receipt_message(order, payment, settings, words=outbound.body_text)
        enqueue_whatsapp(receipt, phone=order.customer_phone, key=f"receipt:{payment.id}", order=order)
        return
    # Outside the 24-hour window only a template may go (a document would be refused, 131047); it links the
    # status page, where the receipt is.
    enqueue_whatsapp(outbound, phone=order.customer_phone, key=f"payment:{payment.id}", order=order)


@events.subscribe(events.REFUND_RECORDED)
def on_refund_recorded(order: Order, refunds: list, tell_customer: bool = True) -> None:
    """The customer hears once how much was given back and when to expect it (the longest wait of the methods it
    went back to)."""
    if not messaging_enabled() or not tell_customer or not refunds:
        return
    outbound = messages.refund_issued(
        order,
        get_store_settings(),
        status_url=status_url(order),
        refund_amount_minor=sum(refund.amount_minor for refund in refunds),
        refund_timing=refund_timing(*(refund.method for refund in refunds)),
        in_window=in_window(order.customer_phone),
        language=chats.template_language_for(order.customer_phone),
    )
    enqueue_whatsapp(outbound, phone=order.customer_phone, key=f"refund:{refunds[0].id}", order=order)


@events.subscribe(events.RETURN_UPDATED)
def on_return_updated(return_request) -> None:
    """The customer hears each decision on their return (approved with how to send it, rejected with why) and
    that it was received; the refund has its own message."""
    if not messaging_enabled():
        return
    order = return_request.order
    outbound = messages.return_update(
        return_request,
        get_store_settings(),
        status_url=status_url(order),
        in_window=in_window(order.customer_phone),
        language=chats.template_language_for(order.customer_phone),
    )
    key = f"return:{return_request.id}:{return_request.status}"
    enqueue_whatsapp(outbound, phone=order.customer_phone, key=key, order=order)


@events.subscribe(account_health.SENDING_PAUSED)
def on_sending_paused(pause: SendingPause, reason: str) -> None:
    """Once per pause, to every staff alert number; it waits in the outbox with the rest and arrives on resuming."""
    settings = get_store_settings()
    error = f"{pause.error_code}: {pause.error_title}" if pause.error_code is not None else pause.error_title
    for number in settings.staff_alert_numbers or []:
        outbound = messages.sending_paused_alert(
            settings,
            started_at=pause.started_at,
            error=error,
            reason=reason,
            in_window=in_window(number),
            language=template_language(),
        )
        enqueue_whatsapp(outbound, phone=number, key=f"sending-paused:{pause.id}:{number}")


@events.subscribe(events.MESSAGE_FAILED)
def on_message_failed(message: Message, failure: SendFailed) -> None:
    """A message gave up: outside the window, fall back to the template once; else tell staff on the order."""
    if failure.window_closed and message.order is not None and message.kind != "template":
        resend_as_template(message)
        return
    if message.order is not None:
        what = message.purpose.replace("_", " ").replace(":", " ")
        message.order.attention = f"WhatsApp {what} message failed ({failure}). Contact the customer another way."[:300]


def resend_as_template(message: Message) -> None:
    order, settings = message.order, get_store_settings()
    purpose = message.purpose
    if purpose == "order_confirmation":
        outbound = messages.confirmation_request(
            order, settings, in_window=False, language=chats.template_language_for(order.customer_phone)
        )
    elif purpose.startswith("status:"):
        outbound = messages.status_update(
            order,
            settings,
            status_url=status_url(order),
            in_window=False,
            language=chats.template_language_for(order.customer_phone),
            key=purpose.split(":", 1)[1],
        )
    elif purpose == follow_ups.PURPOSE:
        outbound = follow_ups.follow_up_request(
            order, settings, in_window=False, language=chats.template_language_for(order.customer_phone)
        )
    elif purpose in (request_messages.PURPOSE, request_messages.REMINDER_PURPOSE):
        request = open_request_of(order)
        if request is not None:  # else paid or replaced meanwhile: nothing to ask for any more
            send_request_messages(order, request, purpose, in_window=False)
        return
    else:
        order.attention = "A WhatsApp reply could not be sent: the customer's 24-hour window had closed."
        return
    enqueue_whatsapp(outbound, phone=message.phone, key=f"template-fallback:{message.id}", order=order)


# ---------------------------------------------------------------------------------------------------------------
# Time-driven work, derived from the database so it survives a lost queue and runs once across workers
# ---------------------------------------------------------------------------------------------------------------


def _hold_until(order: Order):
    open_expiries = [r.expires_at for r in order.reservations if r.released_at is None and r.committed_at is None]
    return max(open_expiries) if open_expiries else None


def _reminders_due(now, delay: timedelta):
    """Pending orders past the delay, never reminded, whose customer agreed to reminders and has not yet
    sent the order from WhatsApp nor written or tapped anything about it."""
    customer_wrote = exists().where(Message.order_id == Order.id, Message.direction == "in")
    return select(Order).where(
        Order.status == OrderStatus.PENDING,
        Order.created_at <= now - delay,
        Order.reminder_sent_at.is_(None),
        Order.phone_verified_at.is_(None),
        ~customer_wrote,
        consent_given(Order.customer_phone),
    )


def send_due_reminders(limit: int = 200, now=None) -> int:
    """One reminder per unfinished order, never a second, and only with the customer's consent.

    Not in the shop's quiet hours (the first sweep after them sends it), and not when the customer had a
    reminder or recovery message in the last day (it waits). The outbox key and `reminder_sent_at`, both
    written with the row locked, make it one send however many workers sweep and however often they restart.
    """
    if not messaging_enabled():
        return 0
    now = now or utcnow()
    settings = get_store_settings()
    if is_quiet(settings, now):
        return 0
    sent = 0
    for order in locks.lock_unheld_orders(_reminders_due(now, timedelta(hours=settings.reminder_hours)).limit(limit)):
        hold_until = _hold_until(order)
        if hold_until is None or hold_until <= now:
            continue  # the expiry below will cancel it instead
        if recovery_sent_recently(order.customer_phone, now):
            continue
        outbound = messages.confirmation_reminder(
            order,
            settings,
            hold_until=hold_until,
            handoff_url=external_url("storefront.handoff_page", token=order.status_token),
            language=chats.template_language_for(order.customer_phone),
        )
        enqueue_whatsapp(outbound, phone=order.customer_phone, key=f"reminder:{order.id}", order=order)
        order.reminder_sent_at = now
        record_event(order, "whatsapp", "system", note="Reminder sent on WhatsApp (the customer agreed to reminders)")
        sent += 1
    db.session.commit()
    return sent


def cancel_expired_orders(limit: int = 200) -> int:
    """Pending orders whose every reservation has run out are cancelled, the stock released, the customer told."""
    now = utcnow()
    query = (
        select(Order)
        .where(Order.status == OrderStatus.PENDING, ~order_still_holds_stock(now), Order.reservations.any())
        .limit(limit)
    )
    cancelled = 0
    for order in locks.lock_unheld_orders(query):
        try:
            transition(order, OrderStatus.CANCELLED, actor="system", note=EXPIRY_REASON)
            cancelled += 1
        except OrderError:
            continue
    db.session.commit()
    return cancelled


def run_scheduled_work() -> None:
    send_due_reminders()
    send_cart_recoveries()
    cancel_expired_orders()
    carts.delete_expired_carts(utcnow())
    mark_recovered_orders()
    retry_failed_requests()
    retry_unprocessed_events()  # couriers' events
    retry_leftover_events()  # payments', before the unpaid limit: a payment that arrived is counted first
    act_on_unpaid_orders()
    send_payment_reminders()
    service_sessions.end_expired_sessions()
    follow_ups.send_due_follow_ups()
