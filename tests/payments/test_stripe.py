"""Stripe Checkout end to end against a local fake of Stripe: request → the customer pays → signed webhook → paid.

The fake (tests/fakes/stripe_api.py) is real HTTP on 127.0.0.1 and signs its events as Stripe documents;
the webhook goes through the Flask app as Stripe's POST would, and the database is real.
"""

import time

import pytest
from sqlalchemy import func, select

from checkout import outbox
from checkout.extensions import db
from checkout.models import Message, Order, Payment, PaymentEvent, PaymentRequest
from checkout.orders.desk import change_status
from checkout.payments import requests
from checkout.payments.events import process_payment_event, store_event
from checkout.payments.providers import ProviderUnavailable
from checkout.payments.stripe_checkout import StripeProvider
from tests.admin_helpers import make_staff
from tests.factories import customer, make_order, make_product, make_store
from tests.fakes.stripe_api import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.races import at_once

ASHA = "+919876543210"
TOTAL = 584_400  # ₹5,794 + ₹50 delivery
WEBHOOK = "/webhooks/payments/stripe"


@pytest.fixture
def fake_stripe():
    fake = FakeStripe(timeout_seconds=4)
    yield fake
    fake.close()


@pytest.fixture
def app(make_app, fake_stripe):
    app = make_app(
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=fake_stripe.url,
        STRIPE_TIMEOUT=1.5,  # room for a loaded CI machine; the fakes hold a "timeout" longer
        STRIPE_MAX_NETWORK_RETRIES=0,
        PUBLIC_BASE_URL="https://shop.example",
    )
    client = app.test_client()
    fake_stripe.webhook = lambda raw, headers: client.post(WEBHOOK, data=raw, headers=headers).status_code
    return app


@pytest.fixture
def order_id(app):
    with app.app_context():
        make_store(delivery_fee_minor=5000)
        variant = make_product("Silk Saree", price_minor=579_400, stock=5).variants[0]
        order = make_order([(variant, 1)], details=customer(phone=ASHA, payment_method="transfer"))
        assert order.total_minor == TOTAL
        outbox.run_due()
        return order.id


def request_payment(app, order_id):
    with app.app_context():
        order = db.session.get(Order, order_id)
        return StripeProvider.from_config().request(
            order, order.balance_minor, order.currency, reference=order.reference
        )


def load(app, order_id) -> Order:
    with app.app_context():
        order = db.session.get(Order, order_id)
        order.payments, order.events  # noqa: B018 (loaded before the session closes)
        db.session.expunge_all()
        return order


def payment_messages(app) -> list[Message]:
    with app.app_context():
        outbox.run_due()
        query = select(Message).where(Message.phone == ASHA, Message.purpose == "status:payment_received")
        return list(db.session.scalars(query))


def stored_events(app) -> list[PaymentEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(PaymentEvent).order_by(PaymentEvent.id)))
        db.session.expunge_all()
        return rows


def test_a_customer_who_pays_on_stripe_has_the_order_paid_and_is_told_once(app, fake_stripe, order_id):
    link = request_payment(app, order_id)
    order = load(app, order_id)
    session = fake_stripe.sessions[link.provider_reference]
    assert link.provider == "stripe" and link.url.startswith("https://checkout.stripe.com/")
    assert session["amount_total"] == TOTAL and session["currency"] == "inr"
    assert session["client_reference_id"] == order.reference
    assert session["metadata"] == {"order_reference": order.reference}
    assert session["success_url"] == f"https://shop.example/o/{order.status_token}"

    event = fake_stripe.pay(link.provider_reference)
    assert fake_stripe.deliver(event) == 200

    order = load(app, order_id)
    assert order.payment_status == "paid" and order.amount_paid_minor == TOTAL and order.attention == ""
    [payment] = order.payments
    assert (payment.method, payment.amount_minor, payment.recorded_by_id) == ("stripe", TOTAL, None)
    assert payment.reference == fake_stripe.sessions[link.provider_reference]["payment_intent"]
    assert [(e.event_id, e.outcome, e.order_id) for e in stored_events(app)] == [(event.event_id, "paid", order_id)]
    [message] = payment_messages(app)
    assert "₹5,844.00" in message.body_text


def test_a_request_made_by_the_shop_is_paid_through_the_webhook(app, fake_stripe, order_id):
    """The real path: `request_payment` names the session after the request (ABCD2345P1), not the order; the
    webhook must still find the order (it reads the metadata's order_reference) and settle the request."""
    with app.app_context():
        make_store(delivery_fee_minor=5000, payment_provider="stripe")
        request = requests.request_payment(db.session.get(Order, order_id))
        session_id, request_id = request.provider_reference, request.id
    session = fake_stripe.sessions[session_id]
    assert session["client_reference_id"] != load(app, order_id).reference

    event = fake_stripe.pay(session_id)
    assert fake_stripe.deliver(event) == 200

    order = load(app, order_id)
    assert order.payment_status == "paid" and [p.method for p in order.payments] == ["stripe"]
    assert [(e.outcome, e.order_id) for e in stored_events(app)] == [("paid", order_id)]
    with app.app_context():
        assert db.session.get(PaymentRequest, request_id).status == "paid"


def test_a_replayed_webhook_is_acknowledged_and_changes_nothing(app, fake_stripe, order_id):
    link = request_payment(app, order_id)
    event = fake_stripe.pay(link.provider_reference)
    assert [fake_stripe.deliver(event) for _ in range(3)] == [200, 200, 200]
    assert len(load(app, order_id).payments) == 1
    assert len(stored_events(app)) == 1
    assert len(payment_messages(app)) == 1


def test_a_second_event_for_the_same_payment_records_nothing_more(app, fake_stripe, order_id):
    link = request_payment(app, order_id)
    fake_stripe.deliver(fake_stripe.pay(link.provider_reference))
    session = fake_stripe.sessions[link.provider_reference]
    again = fake_stripe.event("checkout.session.async_payment_succeeded", session)
    assert fake_stripe.deliver(again) == 200
    assert [e.outcome for e in stored_events(app)] == ["paid", "duplicate"]
    assert load(app, order_id).amount_paid_minor == TOTAL


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda event: (event.raw_body, {}), id="no signature"),
        pytest.param(lambda event: (event.raw_body.replace(b"584400", b"999999"), event.headers), id="body changed"),
    ],
)
def test_an_unsigned_or_altered_event_is_refused_and_nothing_is_stored(app, fake_stripe, order_id, forge):
    link = request_payment(app, order_id)
    raw, headers = forge(fake_stripe.pay(link.provider_reference))
    response = app.test_client().post(WEBHOOK, data=raw, headers=headers)
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_signature"
    assert stored_events(app) == [] and load(app, order_id).payment_status == "unpaid"


def test_an_event_signed_with_another_secret_is_refused_and_nothing_is_stored(app, fake_stripe, order_id):
    link = request_payment(app, order_id)
    assert fake_stripe.deliver(fake_stripe.pay(link.provider_reference, secret="whsec_someone_else")) == 400
    assert stored_events(app) == [] and load(app, order_id).amount_paid_minor == 0


def test_an_event_signed_more_than_five_minutes_ago_is_refused_as_a_replay(app, fake_stripe, order_id):
    link = request_payment(app, order_id)
    stale = fake_stripe.pay(link.provider_reference, signed_at=int(time.time()) - 301)
    assert fake_stripe.deliver(stale) == 400
    assert stored_events(app) == [] and load(app, order_id).amount_paid_minor == 0


@pytest.mark.parametrize(
    ("paid", "status", "outcome", "flag"),
    [
        (100_000, "partially_paid", "short", "Stripe: paid ₹1,000.00, owed ₹5,844.00: ₹4,844.00 still to pay"),
        (600_000, "paid", "over", "Stripe: paid ₹6,000.00, owed ₹5,844.00: ₹156.00 to refund"),
    ],
)
def test_a_short_or_over_payment_is_recorded_and_flagged_for_staff(
    app, fake_stripe, order_id, paid, status, outcome, flag
):
    link = request_payment(app, order_id)
    assert fake_stripe.deliver(fake_stripe.pay(link.provider_reference, amount_minor=paid)) == 200
    order = load(app, order_id)
    assert order.amount_paid_minor == paid and order.payment_status == status
    assert order.attention == flag
    assert order.events[-1].kind == "attention" and order.events[-1].note == flag
    assert [e.outcome for e in stored_events(app)] == [outcome]
    assert len(payment_messages(app)) == 1


def test_a_payment_after_the_order_was_cancelled_is_flagged_for_staff_and_not_accepted(app, fake_stripe, order_id):
    link = request_payment(app, order_id)
    with app.app_context():
        owner = make_staff("owner")
        order = db.session.get(Order, order_id)
        change_status(order, "cancelled", staff=owner, expected_version=None, note="Customer changed their mind")
    assert fake_stripe.deliver(fake_stripe.pay(link.provider_reference)) == 200
    order = load(app, order_id)
    assert order.status == "cancelled" and order.payments == [] and order.amount_paid_minor == 0
    assert order.attention == "Stripe payment of ₹5,844.00 arrived after the order was cancelled: refund it or reopen"
    assert [e.outcome for e in stored_events(app)] == ["cancelled_order"]
    assert payment_messages(app) == []


def test_a_payment_in_another_currency_is_flagged_and_not_recorded(app, fake_stripe, order_id):
    link = request_payment(app, order_id)
    assert fake_stripe.deliver(fake_stripe.pay(link.provider_reference, currency="usd")) == 200
    order = load(app, order_id)
    assert order.payments == [] and "not in the order's currency (INR)" in order.attention
    assert [e.outcome for e in stored_events(app)] == ["wrong_currency"]


@pytest.mark.parametrize("failure", ["server_error", "timeout"])
def test_stripe_down_while_requesting_raises_a_clear_error_and_changes_no_order(app, fake_stripe, order_id, failure):
    before = load(app, order_id)
    fake_stripe.fail_next(failure)
    with pytest.raises(ProviderUnavailable) as raised:
        request_payment(app, order_id)
    assert "₹5,844.00" in str(raised.value)
    assert ("could not be reached" if failure == "timeout" else "HTTP 500") in str(raised.value)
    after = load(app, order_id)
    assert (after.version, len(after.events), after.attention) == (before.version, len(before.events), "")
    assert fake_stripe.sessions == {}


def test_two_workers_processing_the_same_stored_event_record_one_payment(app, fake_stripe, order_id):
    link = request_payment(app, order_id)
    event = fake_stripe.pay(link.provider_reference)
    with app.app_context():
        stored_id = store_event("stripe", event.event_id, event.raw_body).id
    outcomes = at_once(app, lambda: process_payment_event(stored_id))
    assert outcomes == ["paid", "paid"]  # the second finds the first's outcome on the row
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert len(payment_messages(app)) == 1
