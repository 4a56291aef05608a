"""A failed delivery in the browser: staff mark it, the customer (the sandbox's phone, every tap through the signed
webhook) chooses "Change address" and types it, and staff approve it on the order page."""

import re

import pytest
from playwright.sync_api import expect

from checkout.extensions import db
from checkout.models import Order, Variant
from checkout.orders.lifecycle import OrderStatus, transition
from tests.admin_helpers import make_staff
from tests.browser.conftest import seed_test_shop
from tests.browser.test_sandbox_confirm import staff_signs_in
from tests.factories import customer, make_order

pytestmark = pytest.mark.browser

NEW_ADDRESS = "Flat 9, Śrī Nivās\nनेहरू नगर 560001"


def seed_order_out_for_delivery():
    seed_test_shop()
    tawa = db.session.query(Variant).filter_by(sku="TAW-0").one()
    order = make_order([(tawa, 1)], details=customer(name="Asha Kumar", phone="+919876543210"))
    for status in (OrderStatus.CONFIRMED, OrderStatus.PREPARING, OrderStatus.SHIPPED, OrderStatus.OUT_FOR_DELIVERY):
        transition(order, status, actor="Meera")
    db.session.commit()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")


def test_staff_approve_the_address_a_customer_typed_after_a_failed_delivery(serve_app, new_context):
    server = serve_app(seed_order_out_for_delivery, WHATSAPP_PROVIDER="sandbox")
    with server.database() as session:
        reference = session.query(Order).one().reference
    page = new_context(server).new_page()
    staff_signs_in(page)

    page.goto(f"/admin/orders/{reference}")
    page.get_by_role("button", name="Mark delivery failed").click()
    expect(page.locator("#order-status")).to_have_text("Delivery failed")

    page.goto("/sandbox/chat/919876543210")
    bubbles = page.get_by_role("log", name="Messages").get_by_role("listitem")
    asked = bubbles.filter(has_text="we could not deliver your order").last
    expect(asked).to_be_visible()
    asked.get_by_role("button", name="Change address").click()
    expect(bubbles.filter(has_text="type the full new delivery address").last).to_be_visible()
    page.get_by_label("Message", exact=True).fill(NEW_ADDRESS)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(bubbles.filter(has_text="The shop will check it").last).to_be_visible()

    page.goto(f"/admin/orders/{reference}")
    card = page.get_by_role("region", name="New delivery address from the customer")
    expect(card).to_contain_text("Śrī Nivās")
    card.get_by_role("button", name="Approve new address").click()
    expect(page.get_by_role("status")).to_contain_text("New address approved")
    expect(page.locator("#order-status")).to_have_text("Delivery rescheduled")
    expect(page.get_by_role("region", name="New delivery address from the customer")).to_have_count(0)

    page.goto("/sandbox/chat/919876543210")
    expect(bubbles.filter(has_text=re.compile("we will deliver again")).last).to_contain_text("नेहरू नगर")
    with server.database() as session:
        order = session.query(Order).one()
        assert (order.status, order.delivery_address, order.requested_address) == ("rescheduled", NEW_ADDRESS, "")
