"""A shopper pays a Stripe order: the status page asks for payment, the fake Stripe takes it, the page says paid.

Everything between is real: the app served over HTTP, Stripe's API faked over HTTP on 127.0.0.1 (tests/fakes/
stripe_api.py), the signed `checkout.session.completed` event POSTed to the live server's webhook, the database.
"""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from checkout.models import Order, Payment, PaymentRequest, Variant
from checkout.money import format_money
from checkout.payments.providers import REQUEST_ON_DEMAND, REQUEST_WHEN_STAFF_CONFIRM
from checkout.payments.requests import request_payment
from tests.browser.conftest import seed_test_shop
from tests.factories import customer, make_order, make_store

pytestmark = pytest.mark.browser

WEBHOOK = "/webhooks/payments/stripe"


def seed_stripe_shop_with_an_order():
    """The test shop asking for payment through Stripe (when staff confirm, or on demand), and one order placed."""
    seed_test_shop()
    make_store(payment_provider="stripe", payment_request_when=REQUEST_WHEN_STAFF_CONFIRM)
    tawa = Variant.query.filter_by(sku="TAW-0").one()
    make_order([(tawa, 1)], details=customer(payment_method="transfer"))


def test_the_shopper_sees_awaiting_payment_then_paid_after_stripe_takes_the_money(
    stripe_shop, new_context, fake_stripe
):
    server = stripe_shop(seed_stripe_shop_with_an_order)
    fake_stripe.webhook = server.url + WEBHOOK
    with server.database() as session:
        order = session.scalars(select(Order)).one()
        assert order.payment_status == "unpaid" and session.scalars(select(PaymentRequest)).first() is None
        session_id = request_payment(order, REQUEST_ON_DEMAND).provider_reference
        token, total_minor = order.status_token, order.total_minor
    total = format_money(total_minor, "INR", "en_IN")
    pay_url = fake_stripe.sessions[session_id]["url"]

    page = new_context(server).new_page()
    page.goto(f"/o/{token}")
    expect(page.locator("#payment-state")).to_have_text("Awaiting payment")
    expect(page.get_by_role("heading", name=f"Pay {total}")).to_be_visible()
    expect(page.get_by_role("link", name="Pay now")).to_have_attribute("href", pay_url)
    expect(page.get_by_role("link", name="Download the receipt")).to_have_count(0)

    assert fake_stripe.deliver(fake_stripe.pay(session_id)) == 200

    page.reload()
    expect(page.locator("#payment-state")).to_contain_text(f"Paid {total}")
    receipt = page.locator("#payment-state").get_by_role("link", name="Download the receipt")
    expect(receipt).to_be_visible()
    expect(page.get_by_role("link", name="Pay now")).to_have_count(0)
    expect(page.get_by_role("heading", name="Receipts")).to_be_visible()

    with server.database() as session:
        payments = session.scalars(select(Payment)).all()
        assert [(p.method, p.kind, p.amount_minor) for p in payments] == [("stripe", "payment", total_minor)]
        assert payments[0].reference == fake_stripe.sessions[session_id]["payment_intent"]
        assert session.scalars(select(Order)).one().payment_status == "paid"
        assert session.scalars(select(PaymentRequest)).one().status == "paid"
        receipt_path = f"/o/{token}/receipt/{payments[0].id}.pdf"
    expect(receipt).to_have_attribute("href", receipt_path)
