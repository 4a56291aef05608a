"""Refunds end to end: through Stripe (a local fake, real HTTP) or recorded by hand, on a real database.

A card payment goes back through Stripe and its refund id is recorded; UPI, cash and transfers are given back
by the shop and recorded. A refund never exceeds what was paid and not yet refunded, two staff pressing at once
refund once, a provider's failure records nothing and says why, and the customer is told the amount and when
to expect it in WhatsApp. Only staff who may approve refunds can.
"""

import re
import threading

import pytest
from sqlalchemy import select

from checkout import outbox
from checkout.extensions import db
from checkout.models import Message, Order, Payment, StaffUser, get_store_settings
from checkout.orders.desk import change_status, record_payment
from checkout.orders.errors import PaymentRejected, RefundFailed, StaleOrder
from checkout.orders.payment_states import payment_state_for
from checkout.payments import requests
from checkout.payments.events import process_payment_event, store_event
from checkout.payments.refunds import give_back, refund_payment
from checkout.payments.stripe_checkout import StripeProvider
from checkout.staff.permissions import ROLE_PERMISSIONS, Permission
from checkout.whatsapp import webhooks
from tests.admin_helpers import make_staff, sign_in
from tests.conftest import ON_POSTGRES
from tests.factories import customer, make_order, make_product, make_store
from tests.fakes.razorpay_api import KEY_ID as RAZORPAY_KEY_ID
from tests.fakes.razorpay_api import KEY_SECRET as RAZORPAY_KEY_SECRET
from tests.fakes.razorpay_api import WEBHOOK_SECRET as RAZORPAY_WEBHOOK_SECRET
from tests.fakes.razorpay_api import FakeRazorpay
from tests.fakes.stripe_api import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.messaging import payloads

ASHA = "+919876543210"
TOTAL = 584_400  # ₹5,794 + ₹50 delivery


@pytest.fixture
def fake_stripe():
    fake = FakeStripe(timeout_seconds=4)
    yield fake
    fake.close()


@pytest.fixture
def app(make_app, fake_stripe):
    return make_app(
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=fake_stripe.url,
        STRIPE_TIMEOUT=1.5,  # room for a loaded CI machine; the fakes hold a "timeout" longer
        STRIPE_MAX_NETWORK_RETRIES=0,
        PUBLIC_BASE_URL="https://shop.example",
        WHATSAPP_APP_SECRET="refund-webhook-secret",
    )


@pytest.fixture
def order_id(app):
    with app.app_context():
        make_store(delivery_fee_minor=5000)
        variant = make_product("Silk Saree", price_minor=579_400, stock=5).variants[0]
        order = make_order([(variant, 1)], details=customer(phone=ASHA, payment_method="transfer"))
        make_staff("owner")
        outbox.run_due()
        return order.id


def paid_through_stripe(app, fake_stripe, order_id) -> str:
    """The customer pays the whole order on Stripe; the webhook records it. The PaymentIntent's id."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        link = StripeProvider.from_config().request(order, order.balance_minor, order.currency, reference="R1")
        event = fake_stripe.pay(link.provider_reference)
        process_payment_event(store_event("stripe", event.event_id, event.raw_body).id)
        outbox.run_due()
        return fake_stripe.sessions[link.provider_reference]["payment_intent"]


def paid_by_upi(app, order_id, amount_minor=TOTAL) -> None:
    with app.app_context():
        owner = owner_of(app)
        record_payment(
            db.session.get(Order, order_id),
            method="upi",
            amount_minor=amount_minor,
            reference="UPI-1",
            staff=owner,
            expected_version=None,
        )
        outbox.run_due()


def owner_of(app):
    return db.session.scalar(select(StaffUser).where(StaffUser.role == "owner"))


def refund(app, order_id, amount_minor, *, reason="One item damaged", version=None, payment_id=None):
    with app.app_context():
        return refund_payment(
            db.session.get(Order, order_id),
            amount_minor=amount_minor,
            reason=reason,
            staff=owner_of(app),
            expected_version=version,
            payment_id=payment_id,
        )


def load(app, order_id) -> Order:
    with app.app_context():
        order = db.session.get(Order, order_id)
        order.payments, order.events  # noqa: B018 (loaded before the session closes)
        db.session.expunge_all()
        return order


def refund_messages(app) -> list[str]:
    with app.app_context():
        outbox.run_due()
        query = select(Message).where(Message.phone == ASHA, Message.purpose == "status:refund_issued")
        return [message.body_text for message in db.session.scalars(query.order_by(Message.id))]


def customer_writes(app):
    """The customer wrote to the shop: their 24-hour window is open, so the shop's own words can go."""
    client = app.test_client()
    assert payloads.post_signed(client, app, payloads.text("hello", wa_id=ASHA.lstrip("+"))).status_code == 200
    with app.app_context():
        webhooks.process_pending()


# --- the rule of the state ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid", "refunded", "state"),
    [
        (0, 0, "unpaid"),
        (400, 0, "partially_paid"),
        (1000, 0, "paid"),
        (1100, 0, "paid"),  # overpaid: paid (staff are flagged about the difference elsewhere)
        (800, 200, "partly_refunded"),
        (0, 1000, "refunded"),
        (300, 200, "partially_paid"),  # half paid, some given back: the rest is still owed
        (1000, 100, "paid"),  # an overpayment given back
    ],
)
def test_the_payment_state_of_an_order_of_1000(paid, refunded, state):
    assert payment_state_for(1000, paid, refunded) == state


# --- through Stripe --------------------------------------------------------------------------------------


def test_a_full_refund_goes_back_through_stripe_and_its_refund_id_is_recorded(app, fake_stripe, order_id):
    intent = paid_through_stripe(app, fake_stripe, order_id)
    done = refund(app, order_id, TOTAL, reason="Customer returned it")

    [made] = fake_stripe.refunds.values()
    assert (made["payment_intent"], made["amount"], made["currency"]) == (intent, TOTAL, "inr")
    assert done.provider_refund_ids == [made["id"]]
    order = load(app, order_id)
    assert (order.payment_status, order.amount_paid_minor, order.amount_refunded_minor) == ("refunded", 0, TOTAL)
    payment, refund_row = order.payments
    assert (refund_row.kind, refund_row.method, refund_row.reference) == ("refund", "stripe", made["id"])
    assert refund_row.refund_of_id == payment.id and refund_row.recorded_by_name == "Owner"
    assert order.events[-1].kind == "refund"
    assert made["id"] in order.events[-1].note and "Customer returned it" in order.events[-1].note


def test_a_partial_refund_through_stripe_leaves_the_order_partly_refunded_and_owing_nothing(app, fake_stripe, order_id):
    paid_through_stripe(app, fake_stripe, order_id)
    customer_writes(app)
    refund(app, order_id, 100_000)

    [made] = fake_stripe.refunds.values()
    assert made["amount"] == 100_000
    order = load(app, order_id)
    assert order.payment_status == "partly_refunded"
    assert (order.amount_paid_minor, order.amount_refunded_minor, order.balance_minor) == (TOTAL - 100_000, 100_000, 0)
    [text] = refund_messages(app)
    assert text == (
        f"Hi Asha Kumar, we have refunded ₹1,000.00 for your order {order.reference}.\n"
        "It should reach you within 5–10 business days.\n"
        f"Order status: https://shop.example/o/{order.status_token}"
    )


def test_outside_the_window_the_refund_is_told_in_the_order_update_template(app, fake_stripe, order_id):
    paid_through_stripe(app, fake_stripe, order_id)
    refund(app, order_id, 100_000)
    with app.app_context():
        outbox.run_due()
        message = db.session.scalar(select(Message).where(Message.purpose == "status:refund_issued"))
        assert message.kind == "template"
        assert "refund of ₹1,000.00 issued; expect it within 5–10 business days" in message.body_text


def test_the_shop_can_word_the_refund_message_itself(app, fake_stripe, order_id):
    paid_through_stripe(app, fake_stripe, order_id)
    customer_writes(app)
    with app.app_context():
        settings = get_store_settings()
        settings.message_texts = {"refund_issued": "{refund_amount} is on its way back to you ({refund_timing})."}
        db.session.commit()
    refund(app, order_id, 50_000)
    assert refund_messages(app) == ["₹500.00 is on its way back to you (5–10 business days)."]


def test_a_refund_over_what_is_left_is_refused_and_stripe_is_not_asked(app, fake_stripe, order_id):
    paid_through_stripe(app, fake_stripe, order_id)
    refund(app, order_id, 500_000)
    with pytest.raises(PaymentRejected) as refused:
        refund(app, order_id, 100_000)  # only ₹844 is left
    assert str(refused.value) == "At most ₹844.00 can be refunded."
    refund(app, order_id, 84_400)
    with pytest.raises(PaymentRejected, match="it has all been refunded already"):
        refund(app, order_id, 1)
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [500_000, 84_400]
    assert load(app, order_id).payment_status == "refunded"


@pytest.mark.parametrize("failure", ["server_error", "timeout"])
def test_stripe_down_records_nothing_and_says_why(app, fake_stripe, order_id, failure):
    paid_through_stripe(app, fake_stripe, order_id)
    before = load(app, order_id)
    fake_stripe.fail_next(failure)
    with pytest.raises(RefundFailed) as failed:
        refund(app, order_id, 100_000)
    assert ("could not be reached" if failure == "timeout" else "HTTP 500") in str(failed.value)
    assert "₹1,000.00" in str(failed.value)
    after = load(app, order_id)
    assert (after.version, len(after.payments), after.payment_status) == (before.version, 1, "paid")
    assert refund_messages(app) == []
    # Asked again (the same page): Stripe makes the refund now, once.
    refund(app, order_id, 100_000, version=after.version)
    assert len(fake_stripe.refunds) == 1 and load(app, order_id).amount_refunded_minor == 100_000


def test_a_retry_after_a_lost_answer_finds_stripes_refund_instead_of_making_a_second(app, fake_stripe, order_id):
    """Stripe refunded, but our transaction never committed (the answer was lost): the same page asks again with
    the same idempotency key, and Stripe answers with the refund it made."""
    intent = paid_through_stripe(app, fake_stripe, order_id)
    with app.app_context():
        order = db.session.get(Order, order_id)
        first = StripeProvider.from_config().refund(
            intent, 100_000, "INR", reference=f"{order.reference}-{order.payments[0].id}-v{order.version}"
        )
        version = order.version
    done = refund(app, order_id, 100_000, version=version)
    assert done.provider_refund_ids == [first] and len(fake_stripe.refunds) == 1


def test_a_stripe_payment_is_refunded_through_stripe_when_staff_cancel_and_refund(app, fake_stripe, order_id):
    paid_through_stripe(app, fake_stripe, order_id)
    with app.app_context():
        order = db.session.get(Order, order_id)
        owner = owner_of(app)
        change_status(
            order,
            "cancelled",
            staff=owner,
            expected_version=None,
            note="Out of stock",
            refund_paid=True,
            give_back=give_back,
        )
    [made] = fake_stripe.refunds.values()
    order = load(app, order_id)
    assert made["amount"] == TOTAL and order.payments[-1].reference == made["id"]
    assert (order.status, order.payment_status) == ("cancelled", "refunded")
    assert refund_messages(app) == []  # the cancellation message says it: one message, not two


def test_cancelling_with_a_refund_while_stripe_is_down_cancels_nothing_and_says_why(app, fake_stripe, order_id):
    paid_through_stripe(app, fake_stripe, order_id)
    fake_stripe.fail_next("server_error")
    with app.app_context():
        order, owner = db.session.get(Order, order_id), owner_of(app)
        with pytest.raises(RefundFailed, match="HTTP 500"):
            change_status(
                order,
                "cancelled",
                staff=owner,
                expected_version=None,
                note="Out of stock",
                refund_paid=True,
                give_back=give_back,
            )
    order = load(app, order_id)
    assert (order.status, order.payment_status, len(order.payments)) == ("pending", "paid", 1)
    assert fake_stripe.refunds == {}


# --- by hand ---------------------------------------------------------------------------------------------


def test_a_upi_payment_is_given_back_by_the_shop_and_recorded(app, fake_stripe, order_id):
    paid_by_upi(app, order_id)
    customer_writes(app)
    done = refund(app, order_id, 200_000, reason="Two items returned")
    assert done.provider_refund_ids == [] and fake_stripe.refunds == {}
    order = load(app, order_id)
    refund_row = order.payments[-1]
    assert (refund_row.kind, refund_row.method, refund_row.reference) == ("refund", "upi", "Two items returned")
    assert order.payment_status == "partly_refunded"
    assert "Refund of ₹2,000.00 (UPI) — Two items returned" in order.events[-1].note
    [text] = refund_messages(app)
    assert "we have refunded ₹2,000.00" in text and "within 1–3 business days" in text


def test_cash_refunds_say_no_waiting_time(app, fake_stripe, order_id):
    with app.app_context():
        record_payment(
            db.session.get(Order, order_id),
            method="cash",
            amount_minor=TOTAL,
            reference="",
            staff=owner_of(app),
            expected_version=None,
        )
    customer_writes(app)
    refund(app, order_id, 10_000)
    [text] = refund_messages(app)
    assert "we have refunded ₹100.00" in text and "reach you within" not in text


def test_a_refund_over_several_payments_takes_the_newest_first_and_tells_the_customer_once(app, fake_stripe, order_id):
    paid_by_upi(app, order_id, 84_400)
    paid_through_stripe(app, fake_stripe, order_id)  # the other ₹5,000
    customer_writes(app)
    refund(app, order_id, 584_400)
    order = load(app, order_id)
    refunds = [(p.method, p.amount_minor) for p in order.payments if p.kind == "refund"]
    assert sorted(refunds) == [("stripe", 500_000), ("upi", 84_400)]
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [500_000]
    [text] = refund_messages(app)
    assert "₹5,844.00" in text and "5–10 business days" in text  # the longer wait of the two


def test_one_payment_can_be_chosen_and_is_never_refunded_past_its_own_amount(app, fake_stripe, order_id):
    paid_by_upi(app, order_id, 84_400)
    with app.app_context():
        upi_id = db.session.scalar(select(Payment.id).where(Payment.method == "upi"))
    with pytest.raises(PaymentRejected, match=r"At most ₹844.00 can be refunded from this payment"):
        refund(app, order_id, 100_000, payment_id=upi_id)
    with pytest.raises(PaymentRejected, match="Choose the payment"):
        refund(app, order_id, 100, payment_id=upi_id + 999)


# --- two staff at once -----------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="row locking is exercised on PostgreSQL (DATABASE_URL)")
@pytest.mark.parametrize("same_page", [True, False], ids=["same page", "no version"])
def test_two_staff_refunding_at_once_refund_once(app, fake_stripe, order_id, same_page):
    paid_through_stripe(app, fake_stripe, order_id)
    version = load(app, order_id).version if same_page else None
    start, outcomes, lock = threading.Barrier(2), [], threading.Lock()

    def press():
        with app.app_context():
            start.wait()
            try:
                refund(app, order_id, TOTAL, version=version)
                outcome = "refunded"
            except (StaleOrder, PaymentRejected) as refusal:
                outcome = type(refusal).__name__
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == sorted(["refunded", "StaleOrder" if same_page else "PaymentRejected"])
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [TOTAL]
    order = load(app, order_id)
    assert (order.amount_refunded_minor, len([p for p in order.payments if p.kind == "refund"])) == (TOTAL, 1)


# --- the order page and who may refund -------------------------------------------------------------------


def test_only_owners_and_managers_may_approve_refunds():
    assert {role for role, allowed in ROLE_PERMISSIONS.items() if Permission.APPROVE_REFUNDS in allowed} == {
        "owner",
        "manager",
    }


def refund_form_post(client, reference, version, **form):
    return client.post(f"/admin/orders/{reference}/refunds", data={"version": version, **form})


@pytest.mark.parametrize(("role", "status", "refunded"), [("manager", 303, 100_000), ("fulfilment", 403, 0)])
def test_the_refund_form_answers_only_staff_who_may_approve_refunds(app, fake_stripe, order_id, role, status, refunded):
    paid_through_stripe(app, fake_stripe, order_id)
    with app.app_context():
        email = make_staff(role).email
    client = app.test_client()
    sign_in(client, email)
    order = load(app, order_id)
    page = client.get(f"/admin/orders/{order.reference}").get_data(as_text=True)
    assert ('action="/admin/orders/' + order.reference + '/refunds"' in page) is (status == 303)
    response = refund_form_post(client, order.reference, order.version, amount="1000", reason="Late")
    assert response.status_code == status
    assert load(app, order_id).amount_refunded_minor == refunded


def test_a_provider_failure_is_shown_to_staff_on_the_order_page(app, fake_stripe, order_id):
    paid_through_stripe(app, fake_stripe, order_id)
    client = app.test_client()
    sign_in(client, "owner@sunrise.example.com")
    order = load(app, order_id)
    fake_stripe.fail_next("server_error")
    response = refund_form_post(client, order.reference, order.version, amount="1000", reason="Late")
    assert response.status_code == 502
    page = response.get_data(as_text=True)
    assert re.search(r'role="alert">Stripe refused the refund for ₹1,000.00 \(HTTP 500\)', page)
    assert load(app, order_id).amount_refunded_minor == 0


# --- the same flow with Razorpay --------------------------------------------------------------------------


def test_a_razorpay_payment_goes_back_through_razorpay_and_the_customer_hears_5_to_7_days(make_app):
    fake = FakeRazorpay(timeout_seconds=4)
    try:
        app = make_app(
            RAZORPAY_KEY_ID=RAZORPAY_KEY_ID,
            RAZORPAY_KEY_SECRET=RAZORPAY_KEY_SECRET,
            RAZORPAY_WEBHOOK_SECRET=RAZORPAY_WEBHOOK_SECRET,
            RAZORPAY_API_BASE=fake.url,
            RAZORPAY_TIMEOUT=2,
            WHATSAPP_APP_SECRET="refund-webhook-secret",
        )
        client = app.test_client()
        fake.webhook = lambda raw, headers: (
            client.post("/webhooks/payments/razorpay", data=raw, headers=headers).status_code
        )
        with app.app_context():
            make_store(delivery_fee_minor=5000, payment_provider="razorpay")
            variant = make_product("Silk Saree", price_minor=579_400, stock=5).variants[0]
            order = make_order([(variant, 1)], details=customer(phone=ASHA, payment_method="transfer"))
            make_staff("owner")
            link = requests.request_payment(order).provider_reference
            order_id = order.id
        assert fake.deliver(fake.pay(link)) == 200
        customer_writes(app)
        refund(app, order_id, 100_000)
        [(refund_id, made)] = fake.refunds.items()
        order = load(app, order_id)
        assert made["amount"] == 100_000 and made["payment_id"] == order.payments[0].reference
        assert (order.payments[-1].method, order.payments[-1].reference) == ("razorpay", refund_id)
        assert order.payment_status == "partly_refunded"
        [text] = refund_messages(app)
        assert "we have refunded ₹1,000.00" in text and "within 5–7 business days" in text
    finally:
        fake.close()
