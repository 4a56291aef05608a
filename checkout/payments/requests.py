"""Asking a customer to pay an order: make the link through the shop's provider and send it in WhatsApp.

`open_payment_request` writes in the caller's transaction (an order being placed or confirmed);
`request_payment` is the staff's "Request payment" button, a transaction of its own. A provider that
fails leaves a failed request with its error, a note for staff and the time of the next attempt;
`retry_failed_requests` (the sweep) asks again then, further apart each time, MAX_ATTEMPTS times in all.
"""

import logging
from datetime import datetime, timedelta

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
    PUSHED_TO_THE_PHONE,
    REQUEST_ON_DEMAND,
    is_requested_for,
    provider_named,
)
from checkout.payments.request_messages import PURPOSE, payment_request_messages
from checkout.web.urls import status_url
from checkout.whatsapp import chats
from checkout.whatsapp.conversation_window import in_window as customer_in_window
from checkout.whatsapp.providers import messaging_enabled

log = logging.getLogger(__name__)

ERROR_MAX = 300
# How long after the n-th failed attempt the next one is due: a provider that is down for a minute costs one
# retry, one down for a day is not asked every sweep. len(RETRY_SPACING) + 1 attempts in all.
RETRY_SPACING = (
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(RETRY_SPACING) + 1


def next_attempt_after(attempts: int, now: datetime) -> datetime | None:
    """When a request that failed `attempts` times is asked again; None when it has had all its attempts."""
    return now + RETRY_SPACING[attempts - 1] if 0 < attempts < MAX_ATTEMPTS else None


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
        request.next_attempt_at = next_attempt_after(request.attempts, utcnow())
        then = "Asked again later." if request.next_attempt_at else f"Given up after {request.attempts} attempts."
        order.attention = f"Payment request through {request.provider} failed: {error} {then}"[:ERROR_MAX]
        record_event(order, "payment_request", "system", note=order.attention)
        db.session.flush()
        return
    request.next_attempt_at = None
    request.provider_reference = link.provider_reference
    request.url, request.qr_payload, request.expires_at = link.url, link.qr_payload, link.expires_at
    request.status, request.last_error = "requested", ""
    db.session.flush()
    record_event(
        order, "payment_request", "system", note=f"Payment of {request.currency} requested through {request.provider}"
    )
    send_request_messages(order, request)


def send_request_messages(
    order: Order, request: PaymentRequest, purpose: str = PURPOSE, *, in_window: bool | None = None
) -> None:
    """Queue the request's message(s), or its reminder's: free-form inside the 24-hour window, else the template.

    The outbox key makes each one once per request, whoever queues it again; `in_window=False` is the template
    sent after the free-form message was refused for a closed window (its own key).
    """
    if not messaging_enabled():
        return
    window_open = customer_in_window(order.customer_phone) if in_window is None else in_window
    outbound_messages = payment_request_messages(
        order,
        request,
        status_url=status_url(order),
        in_window=window_open,
        language=chats.template_language_for(order.customer_phone),
        purpose=purpose,
    )
    for number, outbound in enumerate(outbound_messages, 1):
        fallback = "" if in_window is None else ":template"
        key = f"{purpose.replace('_', '-')}:{request.id}:{number}{fallback}"
        enqueue_whatsapp(outbound, phone=order.customer_phone, key=key, order=order)


def request_payment(order: Order, trigger: str = REQUEST_ON_DEMAND) -> PaymentRequest:
    """Staff's "Request payment": lock the order, ask, commit. Raises PaymentNotRequested with the reason."""
    with transaction():
        locked = locks.lock_order(order.id)
        if locked is None:
            raise PaymentNotRequested("There is no such order.")
        return open_payment_request(locked, trigger)


def ask_again_now_the_number_is_proven(order: Order) -> bool:
    """The customer just wrote from the order's number: a push to their phone refused until then goes now.

    Only for providers that push to the customer's phone (M-Pesa's STK prompt); the caller holds the order's
    lock. Whether the order may still be asked is checked as for any request.
    """
    latest = latest_request_of(order)
    if latest is None or latest.status != "failed" or latest.provider not in PUSHED_TO_THE_PHONE:
        return False
    if why_payment_not_requested(order, REQUEST_ON_DEMAND):
        return False
    _ask_provider(order, latest)
    return True


def retry_failed_requests(limit: int = 50, now: datetime | None = None) -> int:
    """The sweep: ask the provider again for failed requests that are due (next_attempt_at), orders still owing.

    Each order is locked (skipping those another worker holds) and its request read afresh, so two sweeps at
    once ask once: the second finds it asked, or not due any more.
    """
    now = now or utcnow()
    failed = select(PaymentRequest.order_id).where(
        PaymentRequest.status == "failed",
        PaymentRequest.attempts < MAX_ATTEMPTS,
        PaymentRequest.next_attempt_at <= now,
    )
    due = select(Order).where(Order.id.in_(failed)).limit(limit)
    retried = 0
    for order in locks.lock_unheld_orders(due):
        request = _latest_request_afresh(order)
        if request is None or request.status != "failed" or not _is_due(request, now):
            continue
        if why_payment_not_requested(order, REQUEST_ON_DEMAND):  # paid another way, cancelled, or no provider
            request.status, request.next_attempt_at = "expired", None
            continue
        _ask_provider(order, request)
        retried += 1
    db.session.commit()
    return retried


def _latest_request_afresh(order: Order) -> PaymentRequest | None:
    query = select(PaymentRequest).where(PaymentRequest.order_id == order.id).order_by(PaymentRequest.id.desc())
    return db.session.scalar(query.limit(1).execution_options(populate_existing=True))


def _is_due(request: PaymentRequest, now: datetime) -> bool:
    return request.attempts < MAX_ATTEMPTS and request.next_attempt_at is not None and request.next_attempt_at <= now
