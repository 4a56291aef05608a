"""A provider event stored but left unprocessed (a worker that died after storing it, or processing that failed)
is processed again by the sweep: once, further apart after each failure, and left with its error after the last
attempt. Stripe is the fake on 127.0.0.1; time is moved in the database."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from checkout.extensions import db
from checkout.models import Order, Payment, PaymentEvent
from checkout.notifications import run_scheduled_work
from checkout.payments.events import (
    EVENT_RETRY_SPACING,
    MAX_EVENT_ATTEMPTS,
    process_payment_event,
    retry_leftover_events,
    store_event,
)
from tests.conftest import ON_POSTGRES
from tests.payments.unpaid_orders import place_unpaid, purposes_queued, stripe_shop, the_request
from tests.races import at_once

PAYMENT_TOLD = "status:payment_received"  # outside the 24-hour window: the template (inside, the receipt)


def stored(event_id: int) -> PaymentEvent:
    query = select(PaymentEvent).where(PaymentEvent.id == event_id)
    return db.session.scalar(query.execution_options(populate_existing=True))


def arrived_ago(event_id: int, ago: timedelta) -> None:
    event = stored(event_id)
    event.received_at -= ago
    if event.next_attempt_at is not None:
        event.next_attempt_at -= ago
    db.session.commit()


def paid_but_never_processed(stripe_fake, order_id: int) -> int:
    """Stripe's signed event reached us and was stored, and the worker died before processing it."""
    event = stripe_fake.pay(the_request(order_id).provider_reference)
    return store_event("stripe", event.event_id, event.raw_body).id


def test_an_event_stored_and_never_processed_is_processed_by_the_sweep_once(shop, stripe_fake):
    order_id = place_unpaid(stripe_shop()).id
    event_id = paid_but_never_processed(stripe_fake, order_id)
    assert retry_leftover_events() == 0  # just arrived: the webhook that stored it may still be at it
    arrived_ago(event_id, timedelta(minutes=2))
    run_scheduled_work()  # the sweep every worker runs
    event = stored(event_id)
    assert event.processed_at is not None and event.outcome == "paid"
    assert db.session.get(Order, order_id).payment_status == "paid"
    assert retry_leftover_events() == 0
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert purposes_queued(order_id).count(PAYMENT_TOLD) == 1


def test_a_failing_event_is_tried_further_apart_then_left_with_its_error(shop):
    broken = {"id": "evt_broken", "type": "checkout.session.completed", "data": {"object": ["not", "a", "session"]}}
    event_id = store_event("stripe", "evt_broken", json.dumps(broken).encode()).id
    assert process_payment_event(event_id) == "failed"  # the webhook's own attempt
    waits = []
    for attempt in range(1, MAX_EVENT_ATTEMPTS):
        event = stored(event_id)
        assert event.attempts == attempt and event.processed_at is None
        assert event.error.startswith("AttributeError")
        waits.append(event.next_attempt_at - event.received_at)
        assert retry_leftover_events() == 0 and stored(event_id).attempts == attempt  # not due yet
        arrived_ago(event_id, EVENT_RETRY_SPACING[attempt - 1])
        assert retry_leftover_events() == 0  # tried, and failed again
    event = stored(event_id)
    assert event.attempts == MAX_EVENT_ATTEMPTS and event.next_attempt_at is None
    assert event.error.startswith("AttributeError") and event.processed_at is None  # kept for staff
    arrived_ago(event_id, timedelta(days=30))
    assert retry_leftover_events() == 0 and stored(event_id).attempts == MAX_EVENT_ATTEMPTS
    assert waits == sorted(waits)


@pytest.mark.skipif(not ON_POSTGRES, reason="row locking is exercised on PostgreSQL (DATABASE_URL)")
def test_two_sweeps_at_once_record_the_payment_once(shop_app, stripe_fake):
    with shop_app.app_context():
        order_id = place_unpaid(stripe_shop()).id
        event_id = paid_but_never_processed(stripe_fake, order_id)
        arrived_ago(event_id, timedelta(minutes=2))
        db.session.remove()
    counts = at_once(shop_app, lambda: retry_leftover_events())
    assert sorted(counts) == [0, 1]
    with shop_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
        assert stored(event_id).outcome == "paid" and stored(event_id).attempts == 0
        assert purposes_queued(order_id).count(PAYMENT_TOLD) == 1
