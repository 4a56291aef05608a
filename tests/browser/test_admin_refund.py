"""Staff refund part of a card-paid order from the order page, in a real browser: Stripe (a local fake over HTTP)
gives the money back, the page says "Partly refunded" and the timeline names Stripe's refund."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from checkout.models import Order
from tests.admin_helpers import PASSWORD
from tests.browser.conftest import DESKTOP, MOBILE, card_paid_tawa_order
from tests.fakes.stripe_api import SECRET_KEY, WEBHOOK_SECRET, FakeStripe

pytestmark = pytest.mark.browser


def seed_card_paid_order(fake_stripe: FakeStripe):
    def seed():
        card_paid_tawa_order(fake_stripe)

    return seed


@pytest.mark.parametrize("device", [DESKTOP, MOBILE], ids=["desktop", "phone"])
def test_a_manager_refunds_part_of_a_card_payment_from_the_order_page(serve_app, new_context, fake_stripe, device):
    server = serve_app(
        seed_card_paid_order(fake_stripe),
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=fake_stripe.url,
        STRIPE_TIMEOUT=2,
        STRIPE_MAX_NETWORK_RETRIES=0,
    )
    with server.database() as session:
        reference = session.scalars(select(Order)).one().reference
    page = new_context(server, device).new_page()
    page.goto("/admin/login")
    page.get_by_label("Email").fill("manager@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Admin")).to_be_visible()
    page.goto(f"/admin/orders/{reference}")
    expect(page.locator("#payment-status")).to_have_text("Paid")

    page.get_by_text("Refund…").click()
    expect(page.get_by_label("Refund from")).to_contain_text("refunded through Stripe")
    page.get_by_label("Amount to refund").fill("200")
    page.get_by_label("Reason for the refund").fill("Handle arrived bent")
    page.get_by_role("button", name="Refund", exact=True).click()

    expect(page.locator("#payment-status")).to_have_text("Partly refunded")
    [made] = fake_stripe.refunds.values()
    expect(page.get_by_role("status")).to_have_text(
        f"Refunded ₹200.00 (provider refund {made['id']}). The customer is told in WhatsApp."
    )
    expect(page.locator("#timeline")).to_contain_text(f"Refund of ₹200.00 (Card (Stripe)) — {made['id']}")
    assert made["amount"] == 20_000
    with server.database() as session:
        order = session.scalars(select(Order)).one()
        assert (order.amount_refunded_minor, order.payment_status, order.balance_minor) == (
            20_000,
            "partly_refunded",
            0,
        )
