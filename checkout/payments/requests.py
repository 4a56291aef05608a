"""Asking a customer to pay an order: make the link through the shop's provider and send it in WhatsApp.

`open_payment_request` writes in the caller's transaction (an order being placed or confirmed);
`request_payment` is the staff's "Request payment" button, a transaction of its own. A provider that
fails leaves a failed request with its error and a note for staff; `retry_failed_requests` (the sweep)
asks again.
"""

import logging
from datetime import timedelta

from sqlalchemy import func, select

from checkout.database import transaction, utcnow
from checkout.extensions import db
from checkout.models.orders import Order
from checkout.models.payments import PaymentRequest
from checkout.models.store import get_store_settings
from checkout.orders import locks
from checkout.orders.lifecycle import record_event
from checkout.outbox import enqueue_whatsapp
from checkout.payments.providers import (
    NEVER_REQUESTED_METHODS,
    REQUEST_ON_DEMAND,
    is_requested_for,
    provider_named,
)
from checkout.payments.request_messages import payment_request_messages
from checkout.web.urls import status_url
from checkout.whatsapp.providers import messaging_enabled

log = logging.getLogger(__name__)

ERROR_MAX = 300
MAX_ATTEMPTS = 6
RETRY_AFTER = timedelta(minutes=10)


class PaymentNotRequested(Exception):
    """Why this order's customer cannot be asked to pay now, in words for staff."""


def open_request_of(order: Order) -> PaymentRequest | None:
    """The request the customer should pay now: the newest one still open, or None."""
    query = (
        select(PaymentRequest)
        .where(PaymentRequest.order_id == order.id, PaymentRequest.status == "requested")
        .order_by(PaymentRequest.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def open_requests_of(order: Order) -> list[PaymentRequest]:
    query = select(PaymentRequest).where(PaymentRequest.order_id == order.id, PaymentRequest.status == "requested")
    return list(db.session.scalars(query))


def latest_request_of(order: Order) -> PaymentRequest | None:
    query = select(PaymentRequest).where(PaymentRequest.order_id == order.id).order_by(PaymentRequest.id.desc())
    return db.session.scalar(query.limit(1))


def why_payment_not_requested(order: Order, trigger: str) -> str | None:
    """None when `trigger` may ask this order's customer to pay; else the reason, in words for staff."""
    settings = get_store_settings()
    if is_requested_for(order, trigger, settings):
        return None
    if not settings.payment_provider:
        return "Choose a payment provider in the settings first."
    if order.payment_method in NEVER_REQUESTED_METHODS:
        return "Cash on delivery is paid on delivery: no payment is requested."
    if order.status == "cancelled":
        return "A cancelled order takes no payments."
    if order.payment_status == "paid" or order.balance_minor <= 0:
        return "This order is paid."
    return "The shop's settings do not ask for payment at this point."


def _request_reference(order: Order) -> str:
    """Letters and digits only (Pix's txid allows nothing else), unique per order and attempt: ABCD2345P1."""
    earlier = db.session.scalar(select(func.count()).where(PaymentRequest.order_id == order.id))
    return f"{order.reference.replace('-', '')}P{earlier + 1}"


def open_payment_request(order: Order, trigger: str) -> PaymentRequest:
    """Ask the customer to pay what the order still owes, in the caller's transaction.

    An open request for the same amount is reused (and its message not queued twice). Raises
    PaymentNotRequested when the order must not be asked (cash on delivery, paid, cancelled, no provider).
    """
    reason = why_payment_not_requested(order, trigger)
    if reason is not None:
        raise PaymentNotRequested(reason)
    amount_minor = order.balance_minor
    if amount_minor <= 0:
        raise PaymentNotRequested("This order is paid.")
    settings = get_store_settings()
    existing = open_request_of(order)
    asked = (settings.payment_provider, amount_minor, order.currency)
    if existing is not None and (existing.provider, existing.amount_minor, existing.currency) == asked:
        return existing
    if existing is not None:
        existing.status = "expired"  # the amount or the shop's provider changed: the old link must not be paid
    request = PaymentRequest(
        order_id=order.id,
        provider=settings.payment_provider,
        provider_reference=_request_reference(order),
        amount_minor=amount_minor,
        currency=order.currency,
        trigger=trigger,
        attempts=0,
    )
    db.session.add(request)
    _ask_provider(order, request)
    return request


def _ask_provider(order: Order, request: PaymentRequest) -> None:
    """One attempt at the provider; on failure the request stays failed with the error, for staff and the sweep."""
    request.attempts += 1
    try:
        link = provider_named(request.provider).request(
            order, request.amount_minor, request.currency, reference=request.provider_reference
        )
    # A provider is a third party (an SDK, a network call, a refusal): whatever it raises, the order must
    # not be lost with it; the error is kept word for word for staff and the request tried again later.
    except Exception as error:  # noqa: BLE001
        log.warning("payment request %s for order %s failed: %s", request.provider, order.reference, error)
        request.status = "failed"
        request.last_error = f"{type(error).__name__}: {error}"[:ERROR_MAX]
        order.attention = f"Payment request through {request.provider} failed: {error}"[:ERROR_MAX]
        record_event(order, "payment_request", "system", note=order.attention)
        db.session.flush()
        return
    request.provider_reference = link.provider_reference
    request.url, request.qr_payload, request.expires_at = link.url, link.qr_payload, link.expires_at
    request.status, request.last_error = "requested", ""
    db.session.flush()
    record_event(
        order, "payment_request", "system", note=f"Payment of {request.currency} requested through {request.provider}"
    )
    _send(order, request)


def _send(order: Order, request: PaymentRequest) -> None:
    if not messaging_enabled():
        return
    for number, outbound in enumerate(payment_request_messages(order, request, status_url=status_url(order)), 1):
        key = f"payment-request:{request.id}:{number}"
        enqueue_whatsapp(outbound, phone=order.customer_phone, key=key, order=order)


def request_payment(order: Order, trigger: str = REQUEST_ON_DEMAND) -> PaymentRequest:
    """Staff's "Request payment": lock the order, ask, commit. Raises PaymentNotRequested with the reason."""
    with transaction():
        locked = locks.lock_order(order.id)
        if locked is None:
            raise PaymentNotRequested("There is no such order.")
        return open_payment_request(locked, trigger)


def retry_failed_requests(limit: int = 50) -> int:
    """The sweep: ask the provider again for failed requests of orders still owing, up to MAX_ATTEMPTS times.

    TODO: space the attempts out (a next_attempt_at column); today every sweep after RETRY_AFTER tries once.
    """
    failed = select(PaymentRequest.order_id).where(
        PaymentRequest.status == "failed",
        PaymentRequest.attempts < MAX_ATTEMPTS,
        PaymentRequest.created_at <= utcnow() - RETRY_AFTER,
    )
    due = select(Order).where(Order.id.in_(failed)).limit(limit)
    retried = 0
    for order in locks.lock_unheld_orders(due):
        request = latest_request_of(order)
        if request is None or request.status != "failed":
            continue
        if why_payment_not_requested(
            order, REQUEST_ON_DEMAND
        ):  # paid another way, cancelled, or the shop stopped asking
            request.status = "expired"
            continue
        _ask_provider(order, request)
        retried += 1
    db.session.commit()
    return retried
