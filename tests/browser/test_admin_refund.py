"""Staff refund part of a card-paid order from the order page, in a real browser: Stripe (a local fake over HTTP)
gives the money back, the page says "Partly refunded" and the timeline names Stripe's refund."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from checkout.models import Order
from tests.browser.conftest import DESKTOP, MOBILE, card_paid_tawa_order, sign_in_as_manager
from tests.fakes.stripe_api import FakeStripe

pytestmark = pytest.mark.browser


def seed_card_paid_order(fake_stripe: FakeStripe):
    def seed():
        card_paid_tawa_order(fake_stripe)

    return seed


@pytest.mark.parametrize("device", [DESKTOP, MOBILE], ids=["desktop", "phone"])
def test_a_manager_refunds_part_of_a_card_payment_from_the_order_page(stripe_shop, new_context, fake_stripe, device):
    server = stripe_shop(seed_card_paid_order(fake_stripe))
    with server.database() as session:
        reference = session.scalars(select(Order)).one().reference
    page = new_context(server, device).new_page()
    sign_in_as_manager(page)
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
