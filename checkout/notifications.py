"""Who hears about what: the customer, the shop's staff and the shop's own systems.

Subscribed to the order domain's events; everything here runs inside the transaction of the change
and only writes outbox rows. Also the time-driven work: the one reminder, and cancelling orders
whose reservation ran out unanswered.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from checkout import events
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.messaging import Contact, Message
from checkout.models.orders import Order, StockReservation
from checkout.models.store import get_store_settings
from checkout.orders.errors import OrderError
from checkout.orders.lifecycle import OrderStatus, transition
from checkout.outbox import enqueue_shop_webhook, enqueue_whatsapp
from checkout.urls import external_url
from checkout.whatsapp import messages
from checkout.whatsapp.providers import SendFailed, messaging_enabled

WINDOW = timedelta(hours=24)
EXPIRY_REASON = "Not confirmed before the reservation ran out"


def in_window(phone: str) -> bool:
    """Has this number written to us in the last 24 hours? Then free-form messages may be sent."""
    last = db.session.scalar(select(Contact.last_inbound_at).where(Contact.phone == phone))
    return last is not None and last > utcnow() - WINDOW


def status_url(order: Order) -> str:
    return external_url("storefront.order_status", token=order.status_token)


def _language() -> str:
    return current_app.config["WHATSAPP_TEMPLATE_LANGUAGE"]


def order_data(order: Order) -> dict:
    """The order as the shop's own systems receive it in webhooks."""
    return {
        "reference": order.reference,
        "status": order.status,
        "source": order.source,
        "customer": {"name": order.customer_name, "phone": order.customer_phone},
        "fulfilment": order.fulfilment,
        "delivery_address": order.delivery_address,
        "payment_method": order.payment_method,
        "payment_status": order.payment_status,
        "currency": order.currency,
        "subtotal_minor": order.subtotal_minor,
        "delivery_fee_minor": order.delivery_fee_minor,
        "total_minor": order.total_minor,
        "amount_paid_minor": order.amount_paid_minor,
        "lines": [
            {
                "sku": line.sku,
                "name": line.product_name,
                "options": line.options_label,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price_minor,
            }
            for line in order.lines
        ],
        "created_at": order.created_at.isoformat() if order.created_at else None,
        "status_url": status_url(order),
    }


def _shop_webhook(name: str, order: Order, key: str, **extra) -> None:
    settings = get_store_settings()
    if settings.webhook_url and settings.webhook_secret:
        enqueue_shop_webhook(
            name,
            {"order": order_data(order), **extra},
            url=settings.webhook_url,
            secret=settings.webhook_secret,
            key=key,
        )


def request_confirmation(order: Order, *, key: str) -> None:
    settings = get_store_settings()
    outbound = messages.confirmation_request(
        order, settings, in_window=in_window(order.customer_phone), language=_language()
    )
    enqueue_whatsapp(outbound, phone=order.customer_phone, key=key, order=order)
    order.confirmation_requested_at = order.confirmation_requested_at or utcnow()


@events.subscribe(events.ORDER_CREATED)
def on_order_created(order: Order) -> None:
    _shop_webhook(events.ORDER_CREATED, order, key=f"webhook:created:{order.id}")
    if not messaging_enabled():
        return
    request_confirmation(order, key=f"confirm-request:{order.id}")
    settings = get_store_settings()
    admin_url = external_url("admin.order_detail", reference=order.reference)
    for number in settings.staff_alert_numbers or []:
        outbound = messages.staff_alert(
            order, settings, admin_url=admin_url, in_window=in_window(number), language=_language()
        )
        enqueue_whatsapp(outbound, phone=number, key=f"staff-alert:{order.id}:{number}")


@events.subscribe(events.ORDER_STATUS_CHANGED)
def on_status_changed(order: Order, event) -> None:
    _shop_webhook(
        events.ORDER_STATUS_CHANGED, order, key=f"webhook:status:{event.id}", previous_status=event.from_status
    )
    if not messaging_enabled() or OrderStatus(order.status) not in messages.STATUS_TEXT_KEYS:
        return
    outbound = messages.status_update(
        order,
        get_store_settings(),
        status_url=status_url(order),
        reason=event.note,
        in_window=in_window(order.customer_phone),
        language=_language(),
    )
    enqueue_whatsapp(outbound, phone=order.customer_phone, key=f"status:{event.id}", order=order)


@events.subscribe(events.PAYMENT_RECORDED)
def on_payment_recorded(order: Order, payment) -> None:
    _shop_webhook(
        events.PAYMENT_RECORDED,
        order,
        key=f"webhook:payment:{payment.id}",
        payment={"amount_minor": payment.amount_minor, "method": payment.method, "reference": payment.reference},
    )
    if not messaging_enabled():
        return
    outbound = messages.status_update(
        order,
        get_store_settings(),
        status_url=status_url(order),
        in_window=in_window(order.customer_phone),
        language=_language(),
        key="payment_received",
    )
    enqueue_whatsapp(outbound, phone=order.customer_phone, key=f"payment:{payment.id}", order=order)


def message_failed(message: Message, failure: SendFailed) -> None:
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
    if purpose in ("order_confirmation", "order_confirmation_reminder"):
        outbound = messages.confirmation_request(order, settings, in_window=False, language=_language())
    elif purpose.startswith("status:"):
        outbound = messages.status_update(
            order,
            settings,
            status_url=status_url(order),
            in_window=False,
            language=_language(),
            key=purpose.split(":", 1)[1],
        )
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


def send_due_reminders(limit: int = 200) -> int:
    """One reminder per unanswered confirmation request, never a second."""
    if not messaging_enabled():
        return 0
    settings = get_store_settings()
    cutoff = utcnow() - timedelta(hours=settings.reminder_hours)
    query = (
        select(Order)
        .where(
            Order.status == OrderStatus.PENDING,
            Order.confirmation_requested_at.is_not(None),
            Order.confirmation_requested_at <= cutoff,
            Order.reminder_sent_at.is_(None),
        )
        .order_by(Order.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    sent = 0
    for order in db.session.scalars(query).all():
        hold_until = _hold_until(order)
        if hold_until is None or hold_until <= utcnow():
            continue  # the expiry below will cancel it instead
        outbound = messages.confirmation_reminder(
            order, settings, hold_until=hold_until, in_window=in_window(order.customer_phone), language=_language()
        )
        enqueue_whatsapp(outbound, phone=order.customer_phone, key=f"reminder:{order.id}", order=order)
        order.reminder_sent_at = utcnow()
        sent += 1
    db.session.commit()
    return sent


def cancel_expired_orders(limit: int = 200) -> int:
    """Pending orders whose every reservation has run out are cancelled, the stock released, the customer told."""
    now = utcnow()
    still_held = select(StockReservation.id).where(
        StockReservation.order_id == Order.id,
        StockReservation.released_at.is_(None),
        StockReservation.committed_at.is_(None),
        StockReservation.expires_at > now,
    )
    query = (
        select(Order)
        .where(Order.status == OrderStatus.PENDING, ~still_held.exists(), Order.reservations.any())
        .order_by(Order.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    cancelled = 0
    for order in db.session.scalars(query).all():
        try:
            transition(order, OrderStatus.CANCELLED, actor="system", note=EXPIRY_REASON)
            cancelled += 1
        except OrderError:
            continue
    db.session.commit()
    return cancelled


def run_scheduled_work() -> None:
    send_due_reminders()
    cancel_expired_orders()
