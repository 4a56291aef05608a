"""Staff take a customer's return from the Returns list to the refund in a real browser (CSRF on): approve it
with how to send it back, mark it received (the items back in stock), and refund it through Stripe (a local fake
over HTTP)."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from checkout.models import Order, ReturnRequest, Variant
from checkout.orders import returns
from checkout.orders.lifecycle import OrderStatus, transition
from tests.browser.conftest import DESKTOP, MOBILE, card_paid_tawa_order, sign_in_as_manager
from tests.fakes.stripe_api import FakeStripe

pytestmark = pytest.mark.browser


def seed_delivered_order_with_a_return(fake_stripe: FakeStripe):
    def seed():
        order = card_paid_tawa_order(fake_stripe)
        for status in (OrderStatus.CONFIRMED, OrderStatus.PREPARING, OrderStatus.SHIPPED):
            transition(order, status, actor="Test Staff")
        transition(order, OrderStatus.OUT_FOR_DELIVERY, actor="Test Staff")
        transition(order, OrderStatus.DELIVERED, actor="Test Staff")
        returns.create_request(order, reason="damaged", comment="The handle came off", media_file_ids=[])

    return seed


@pytest.mark.parametrize("device", [DESKTOP, MOBILE], ids=["desktop", "phone"])
def test_staff_approve_a_return_mark_it_received_and_refund_it(stripe_shop, new_context, fake_stripe, device):
    server = stripe_shop(seed_delivered_order_with_a_return(fake_stripe))
    with server.database() as session:
        reference = session.scalars(select(Order)).one().reference
        stock_before = session.scalars(select(Variant).where(Variant.sku == "TAW-0")).one().stock_on_hand
    page = new_context(server, device).new_page()
    sign_in_as_manager(page)
    navigation = page.get_by_role("navigation", name="Admin")
    if device is MOBILE and not navigation.get_by_role("link", name="Returns").is_visible():
        page.goto("/admin/returns")
    else:
        navigation.get_by_role("link", name="Returns").click()
    page.get_by_role("link", name="Requested").click()
    expect(page.get_by_role("table", name="Returns")).to_contain_text("The handle came off")
    page.get_by_role("link", name=reference).click()

    returns_card = page.get_by_role("region", name="Returns")
    expect(returns_card).to_contain_text("Damaged")
    returns_card.get_by_label("How to send it back (the customer reads this)").fill("Our courier comes on Friday.")
    returns_card.get_by_role("button", name="Approve return").click()
    expect(page.get_by_role("status")).to_have_text("Return approved: the customer is told how to send it back.")
    expect(returns_card).to_contain_text("Approved: on its way back")

    returns_card.get_by_role("button", name="Mark return received").click()
    expect(page.get_by_role("status")).to_have_text("Return received: the items are back in stock. Refund it below.")
    expect(returns_card.get_by_label("Amount to refund for the return")).to_have_value("899.00")

    returns_card.get_by_role("button", name="Refund the return").click()
    expect(page.get_by_role("status")).to_have_text("Return refunded: ₹899.00. The customer is told in WhatsApp.")
    expect(returns_card).to_contain_text("Refunded ₹899.00")
    expect(page.locator("#timeline")).to_contain_text("Return refunded")
    [made] = fake_stripe.refunds.values()
    assert made["amount"] == 89_900
    with server.database() as session:
        assert session.scalars(select(ReturnRequest)).one().status == "refunded"
        assert session.scalars(select(Variant).where(Variant.sku == "TAW-0")).one().stock_on_hand == stock_before + 1
