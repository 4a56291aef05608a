"""Payment providers' webhook events: stored first, then processed once from the store.

The webhook view verifies the signature and calls `store_event` (one INSERT, committed: a provider's resend of
the same event id finds it there and changes nothing), then `process_payment_event`, which a queue job can call
as well. Processing locks the stored event, then the order (orders/locks.py), so two workers handling the same
event, or a resend racing the first, record the payment once. What the money means is decided here:
the balance paid exactly → recorded; short or over → recorded and flagged for staff with both amounts;
a cancelled order, another currency or an unknown order → flagged, nothing recorded. An event saying the
request was not paid (an M-Pesa prompt cancelled or left to expire) closes that request, nothing recorded; one
the provider's own record contradicts (M-Pesa's callbacks are unsigned and checked back) is flagged for staff.
"""

import json
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from checkout.database import transaction, utcnow
from checkout.extensions import db
from checkout.models.orders import Order, Payment
from checkout.models.payment_events import PaymentEvent
from checkout.models.payments import PaymentRequest
from checkout.money import format_money
from checkout.orders import locks
from checkout.orders.desk import record_provider_payment
from checkout.orders.lifecycle import OrderStatus, record_event
from checkout.payments import mpesa, razorpay_links, stripe_checkout
from checkout.payments.providers import ProviderEvent

log = logging.getLogger(__name__)

# Each provider's reading of a verified body: the event, and the order reference it names.
READERS = {
    stripe_checkout.NAME: (stripe_checkout.read_event, stripe_checkout.order_reference),
    razorpay_links.NAME: (razorpay_links.read_event, razorpay_links.order_reference),
    mpesa.NAME: (mpesa.read_event, mpesa.order_reference),
}
ACTORS = {stripe_checkout.NAME: "Stripe", razorpay_links.NAME: "Razorpay", mpesa.NAME: "M-Pesa"}
# Event kinds that mean the request's link or prompt can no longer be paid: it is closed, so asking again
# makes a new one (an open request for the same amount would otherwise be reused).
NOT_PAID_KINDS = ("failed", "forged")
# Event kinds staff must look at: the provider's own record and the event disagree.
CONTRADICTED_KINDS = ("forged", "unconfirmed")


def store_event(provider: str, event_id: str, raw_body: bytes) -> PaymentEvent | None:
    """Keep a verified event (committed); None when this provider's event id was stored before (a resend)."""
    event = PaymentEvent(provider=provider, event_id=event_id, body=raw_body.decode("utf-8"))
    db.session.add(event)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return event


def process_payment_event(payment_event_id: int) -> str:
    """Act on one stored event once; its outcome.

    Any failure rolls back all of it and is written on the row ("failed"), which stays unprocessed to be tried
    again: the event is already acknowledged, so it must never be lost to an exception here.
    """
    try:
        with transaction():
            return _process(payment_event_id)
    except Exception as error:  # noqa: BLE001 (whatever went wrong is kept on the row and logged)
        log.exception("payment event %s could not be processed", payment_event_id)
        with transaction():
            stored = db.session.get(PaymentEvent, payment_event_id)
            if stored is not None:
                stored.error = f"{type(error).__name__}: {error}"[:500]
        return "failed"


def _lock_event(payment_event_id: int) -> PaymentEvent | None:
    query = select(PaymentEvent).where(PaymentEvent.id == payment_event_id).with_for_update()
    return db.session.scalar(query.execution_options(populate_existing=True))


def _process(payment_event_id: int) -> str:
    stored = _lock_event(payment_event_id)
    if stored is None:
        return "missing"
    if stored.processed_at is not None:
        return stored.outcome
    read_event, order_reference_of = READERS[stored.provider]
    body = json.loads(stored.body)
    event = read_event(body)
    order = None
    if event.kind == "ignored":
        outcome = "ignored"
    else:
        order = locks.lock_order_by_reference(order_reference_of(body))
        if order is None:
            outcome = "unknown_order"
            log.warning("%s event %s names no order we know", stored.provider, stored.event_id)
        elif event.kind == "paid":
            outcome = _apply_payment(order, event)
        else:
            outcome = _apply_non_payment(order, event)
    stored.order_id = order.id if order is not None else None
    stored.outcome, stored.error, stored.processed_at = outcome, "", utcnow()
    return outcome


def _apply_payment(order: Order, event: ProviderEvent) -> str:
    """Record the money on the locked order, or flag it for staff; the outcome's name."""
    actor = ACTORS[event.provider]
    paid = format_money(event.amount_minor, event.currency) if event.currency else str(event.amount_minor)
    if _already_recorded(order, event):
        return "duplicate"
    if order.status == OrderStatus.CANCELLED:
        _flag(order, actor, f"{actor} payment of {paid} arrived after the order was cancelled: refund it or reopen")
        return "cancelled_order"
    if event.currency != order.currency:
        _flag(order, actor, f"{actor} payment of {paid} is not in the order's currency ({order.currency}): check it")
        return "wrong_currency"
    owed = order.balance_minor
    record_provider_payment(
        order, method=event.provider, amount_minor=event.amount_minor, reference=event.payment_reference, actor=actor
    )
    if event.amount_minor == owed:
        return "paid"
    difference = format_money(abs(event.amount_minor - owed), order.currency)
    what = "still to pay" if event.amount_minor < owed else "to refund"
    _flag(order, actor, f"{actor}: paid {paid}, owed {format_money(owed, order.currency)}: {difference} {what}")
    return "short" if event.amount_minor < owed else "over"


def _apply_non_payment(order: Order, event: ProviderEvent) -> str:
    """Nothing is recorded: the request it names is closed if it can't be paid now, and staff told what happened."""
    actor = ACTORS[event.provider]
    if event.kind in NOT_PAID_KINDS:
        query = select(PaymentRequest).where(
            PaymentRequest.order_id == order.id,
            PaymentRequest.provider == event.provider,
            PaymentRequest.provider_reference == event.provider_reference,
            PaymentRequest.status == "requested",
        )
        for request in db.session.scalars(query):
            request.status = "expired"
    if event.kind in CONTRADICTED_KINDS:
        _flag(order, actor, f"{actor}: {event.note}")
    else:
        record_event(order, "payment_request", actor, note=f"{actor}: not paid: {event.note}"[:300])
    return event.kind


def _already_recorded(order: Order, event: ProviderEvent) -> bool:
    """A second event for a payment already on the order (another event id for the same payment intent)."""
    if not event.payment_reference:
        return False
    query = select(Payment.id).where(
        Payment.order_id == order.id, Payment.method == event.provider, Payment.reference == event.payment_reference
    )
    return db.session.scalar(query) is not None


def _flag(order: Order, actor: str, text: str) -> None:
    """Something staff must look at: on the order's attention line and in its (staff-only) timeline."""
    order.attention = text[:300]
    record_event(order, "attention", actor, note=text)
