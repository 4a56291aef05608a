"""Time-driven work on open payment requests: the one reminder, and the shop's unpaid limit.

Both run from the scheduled sweep (checkout/notifications.py). Each locks the orders it acts on (skipping those
another worker holds), reads the open request afresh and writes its mark on it in the same commit as the
message or the change: `reminded_at` (one reminder per request), `unpaid_limit_at` (one flag or cancellation).
So two workers sweeping at once, or a sweep repeated after a crash, act once.
"""

from datetime import datetime, timedelta

from sqlalchemy import select

from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.orders import Order
from checkout.models.payments import PaymentRequest
from checkout.models.store import StoreSettings, get_store_settings
from checkout.money import format_money
from checkout.orders import locks
from checkout.orders.lifecycle import OrderStatus, can_transition, record_event, transition
from checkout.payments import mpesa
from checkout.payments.events import flag_for_staff
from checkout.payments.providers import REQUEST_ON_DEMAND, UNPAID_CANCEL
from checkout.payments.request_messages import REMINDER_PURPOSE
from checkout.payments.requests import (
    PaymentNotRequested,
    open_payment_request,
    send_request_messages,
    why_payment_not_requested,
)
from checkout.shop.quiet_hours import is_quiet
from checkout.whatsapp.providers import messaging_enabled

ACTOR = "system"


def _orders_with_open_requests(*conditions):
    """Orders (not cancelled) with an open request matching `conditions`."""
    requests = select(PaymentRequest.order_id).where(PaymentRequest.status == "requested", *conditions)
    return select(Order).where(Order.id.in_(requests), Order.status != OrderStatus.CANCELLED)


def _open_request_afresh(order: Order) -> PaymentRequest | None:
    query = (
        select(PaymentRequest)
        .where(PaymentRequest.order_id == order.id, PaymentRequest.status == "requested")
        .order_by(PaymentRequest.id.desc())
        .limit(1)
    )
    return db.session.scalar(query.execution_options(populate_existing=True))


# --- the one reminder ------------------------------------------------------------------------------------------


def send_payment_reminders(limit: int = 200, now: datetime | None = None) -> int:
    """Remind once per open request, `payment_reminder_after_hours` after it was made; how many were reminded.

    The same link again, through the outbox (the payment_request template outside the 24-hour window). A link
    the provider let run out is replaced by a new request, which is the reminder. Not in the shop's quiet
    hours: the first sweep after them sends it.
    """
    now = now or utcnow()
    settings = get_store_settings()
    hours = settings.payment_reminder_after_hours
    if not hours or not settings.payment_provider or not messaging_enabled() or is_quiet(settings, now):
        return 0
    cutoff = now - timedelta(hours=hours)
    query = _orders_with_open_requests(PaymentRequest.reminded_at.is_(None), PaymentRequest.created_at <= cutoff)
    reminded = 0
    for order in locks.lock_unheld_orders(query.limit(limit)):
        request = _open_request_afresh(order)
        if request is None or request.reminded_at is not None or request.created_at > cutoff:
            continue  # another worker reminded it, or it was replaced by a newer request
        if why_payment_not_requested(order, REQUEST_ON_DEMAND) or order.balance_minor <= 0:
            continue  # paid, or the shop stopped asking: the request is closed by what changed
        _remind(order, request, now)
        reminded += 1
    db.session.commit()
    return reminded


def _remind(order: Order, request: PaymentRequest, now: datetime) -> None:
    request.reminded_at = now
    # An M-Pesa prompt is pushed only while the customer is there: its reminder asks them to reply for a new one.
    link_still_works = request.expires_at is None or request.expires_at > now or request.provider == mpesa.NAME
    if link_still_works:
        send_request_messages(order, request, REMINDER_PURPOSE)
        record_event(order, "payment_reminder", ACTOR, note="Payment reminder sent on WhatsApp (the same link again)")
        return
    request.status = "expired"  # the provider no longer takes payment on it
    try:
        fresh = open_payment_request(order, REQUEST_ON_DEMAND)
    except PaymentNotRequested:
        return
    fresh.reminded_at = now
    record_event(order, "payment_reminder", ACTOR, note="The payment link had run out: a new one sent as the reminder")


# --- the unpaid limit ------------------------------------------------------------------------------------------


def act_on_unpaid_orders(limit: int = 200, now: datetime | None = None) -> int:
    """Orders whose open request is unpaid `unpaid_limit_hours` after it was made: flagged or cancelled, once.

    Cancelling goes through the one state machine (stock released, the customer told by the cancel message).
    An order with money already paid, or past the point where it can be cancelled, is flagged instead: staff
    decide about money that was paid and about goods on their way.
    """
    now = now or utcnow()
    settings = get_store_settings()
    hours = settings.unpaid_limit_hours
    if not hours:
        return 0
    cutoff = now - timedelta(hours=hours)
    query = _orders_with_open_requests(PaymentRequest.unpaid_limit_at.is_(None), PaymentRequest.created_at <= cutoff)
    acted = 0
    for order in locks.lock_unheld_orders(query.limit(limit)):
        request = _open_request_afresh(order)
        if request is None or request.unpaid_limit_at is not None or request.created_at > cutoff:
            continue
        if order.balance_minor <= 0:
            continue
        request.unpaid_limit_at = now
        _act(order, settings)
        acted += 1
    db.session.commit()
    return acted


def unpaid_reason(hours: int) -> str:
    return f"Not paid within {hours} hours of the payment request"


def _act(order: Order, settings: StoreSettings) -> None:
    reason = unpaid_reason(settings.unpaid_limit_hours)
    owed = format_money(order.balance_minor, order.currency)
    cancellable = order.amount_paid_minor == 0 and can_transition(order, OrderStatus.CANCELLED)
    if settings.unpaid_action == UNPAID_CANCEL and cancellable:
        transition(order, OrderStatus.CANCELLED, actor=ACTOR, note=reason)
        return
    why_not_cancelled = ""
    if settings.unpaid_action == UNPAID_CANCEL:
        why_not_cancelled = " Not cancelled automatically: " + (
            "part of it is paid." if order.amount_paid_minor else "it is past the point where it can be cancelled."
        )
    flag_for_staff(
        order, ACTOR, f"{reason}: {owed} still to pay. Contact the customer or cancel it.{why_not_cancelled}"
    )
