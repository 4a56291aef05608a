"""Payment providers' webhook events: stored first, then processed once from the store.

The webhook view verifies the signature and calls `store_event` (one INSERT, committed: a provider's resend of
the same event id finds it there and changes nothing), then `process_payment_event`, which a queue job can call
as well. Processing locks the stored event, then the order (orders/locks.py), so two workers handling the same
event, or a resend racing the first, record the payment once. What the money means is decided here:
the balance paid exactly → recorded; short or over → recorded and flagged for staff with both amounts;
a cancelled order, another currency or an unknown order → flagged, nothing recorded. An event saying the
request was not paid (an M-Pesa prompt cancelled or left to expire) closes that request, nothing recorded; one
the provider's own record contradicts (M-Pesa's callbacks are unsigned and checked back) is flagged for staff.

An event whose processing failed (or never ran: a worker that died between storing and processing) stays
unprocessed with its error; the sweep (`retry_leftover_events`) tries it again, further apart each time,
MAX_EVENT_ATTEMPTS times in all, and then leaves it with its last error for staff.
"""

import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
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

ERROR_MAX = 500
# A stored event not processed this long after it arrived is the sweep's: the webhook that stored it has
# long finished trying.
LEFTOVER_AFTER = timedelta(minutes=1)
# After the n-th failed attempt the next is due this much later; len(EVENT_RETRY_SPACING) + 1 attempts in all.
EVENT_RETRY_SPACING = (timedelta(minutes=1), timedelta(minutes=10), timedelta(hours=1), timedelta(hours=6))
MAX_EVENT_ATTEMPTS = len(EVENT_RETRY_SPACING) + 1


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


def process_payment_event(payment_event_id: int, *, due_by: datetime | None = None) -> str:
    """Act on one stored event once; its outcome.

    Any failure rolls back all of it and is written on the row ("failed") with the time of the next attempt; the
    row stays unprocessed to be tried again: the event is already acknowledged, so it must never be lost to an
    exception here. With `due_by` (the sweep) an event not due by then is left alone ("not_due").
    """
    try:
        with transaction():
            return _process(payment_event_id, due_by)
    except Exception as error:  # noqa: BLE001 (whatever went wrong is kept on the row and logged)
        log.exception("payment event %s could not be processed", payment_event_id)
        with transaction():
            stored = _lock_event(payment_event_id)
            if stored is not None and stored.processed_at is None:
                _record_failure(stored, error)
        return "failed"


def _record_failure(stored: PaymentEvent, error: Exception) -> None:
    stored.attempts += 1
    stored.error = f"{type(error).__name__}: {error}"[:ERROR_MAX]
    if stored.attempts < MAX_EVENT_ATTEMPTS:
        stored.next_attempt_at = utcnow() + EVENT_RETRY_SPACING[stored.attempts - 1]
        return
    stored.next_attempt_at = None
    log.error(
        "%s event %s given up after %s attempts: %s", stored.provider, stored.event_id, stored.attempts, stored.error
    )


def _leftover(now: datetime):
    """SQL: unprocessed events with attempts left, due now."""
    return and_(
        PaymentEvent.processed_at.is_(None),
        PaymentEvent.attempts < MAX_EVENT_ATTEMPTS,
        or_(
            PaymentEvent.next_attempt_at <= now,
            and_(PaymentEvent.next_attempt_at.is_(None), PaymentEvent.received_at <= now - LEFTOVER_AFTER),
        ),
    )


def _is_due(stored: PaymentEvent, now: datetime) -> bool:
    if stored.attempts >= MAX_EVENT_ATTEMPTS:
        return False
    if stored.next_attempt_at is not None:
        return stored.next_attempt_at <= now
    return stored.received_at <= now - LEFTOVER_AFTER


def retry_leftover_events(limit: int = 50, now: datetime | None = None) -> int:
    """The sweep: process again the stored events left unprocessed; how many were processed now.

    Each event is locked and re-checked before it is acted on, so two sweeps at once act on it once.
    """
    now = now or utcnow()
    ids = list(db.session.scalars(select(PaymentEvent.id).where(_leftover(now)).order_by(PaymentEvent.id).limit(limit)))
    db.session.commit()  # end the read: each event is processed in a transaction of its own
    outcomes = [process_payment_event(event_id, due_by=now) for event_id in ids]
    return sum(outcome not in ("failed", "not_due") for outcome in outcomes)


def _lock_event(payment_event_id: int) -> PaymentEvent | None:
    query = select(PaymentEvent).where(PaymentEvent.id == payment_event_id).with_for_update()
    return db.session.scalar(query.execution_options(populate_existing=True))


def _process(payment_event_id: int, due_by: datetime | None) -> str:
    stored = _lock_event(payment_event_id)
    if stored is None:
        return "missing"
    if due_by is not None and (stored.processed_at is not None or not _is_due(stored, due_by)):
        return "not_due"  # another sweep processed or tried it meanwhile
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
    stored.outcome, stored.error, stored.processed_at, stored.next_attempt_at = outcome, "", utcnow(), None
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
    flag_for_staff(order, actor, text)


def flag_for_staff(order: Order, actor: str, text: str) -> None:
    """Something staff must look at: on the order's attention line and in its (staff-only) timeline."""
    order.attention = text[:300]
    record_event(order, "attention", actor, note=text)
