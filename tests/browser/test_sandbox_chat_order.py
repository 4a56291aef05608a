"""A whole order placed inside the WhatsApp chat, played in the sandbox: every tap goes through the signed webhook."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from checkout.models import Order
from tests.admin_helpers import make_staff
from tests.browser.conftest import seed_test_shop
from tests.browser.test_sandbox_confirm import staff_signs_in

pytestmark = pytest.mark.browser


def seed():
    seed_test_shop()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")


def test_a_customer_orders_a_tawa_inside_the_chat_and_gets_the_confirmation(serve_app, new_context):
    server = serve_app(seed, WHATSAPP_PROVIDER="sandbox")
    page = new_context(server).new_page()
    staff_signs_in(page)
    page.goto("/sandbox/chat/919876543210")
    messages = page.get_by_role("log", name="Messages")
    bubbles = messages.get_by_role("listitem")

    def send(text: str) -> None:
        page.get_by_label("Message", exact=True).fill(text)
        page.get_by_role("button", name="Send", exact=True).click()

    def latest_from_shop():
        return bubbles.filter(has_text="Shop:").last

    send("I want a tawa")
    products = latest_from_shop()
    expect(products).to_contain_text("Here is what we have")
    products.get_by_text("Choose").click()
    products.get_by_role("button", name=re.compile("^Cast Iron Tawa")).click()
    offer = latest_from_shop()
    expect(offer).to_contain_text("How many Cast Iron Tawa?")
    offer.get_by_text("Quantity", exact=True).click()
    offer.get_by_role("button", name=re.compile(r"^2\b")).click()

    added = latest_from_shop()
    expect(added).to_contain_text("Added: 2 × Cast Iron Tawa")
    added.get_by_role("button", name="Checkout").click()

    name = latest_from_shop()
    expect(name).to_contain_text("What name should we put on the order?")
    send("Asha Kumar")
    how = latest_from_shop()
    expect(how).to_contain_text("Delivery or pickup?")
    how.get_by_role("button", name="Delivery").click()
    expect(latest_from_shop()).to_contain_text("delivery address")
    page.get_by_label("Message", exact=True).fill("Flat 4, Beth House\nKasarani")
    page.get_by_role("button", name="Send", exact=True).click()
    pay = latest_from_shop()
    expect(pay).to_contain_text("How will you pay?")
    pay.get_by_role("button", name=re.compile("^Cash on delivery")).click()

    summary = latest_from_shop()
    expect(summary).to_contain_text("Please check your order")
    expect(summary).to_contain_text("Total: ₹1,848.00")  # 2 × 899 + 50 delivery
    summary.get_by_role("button", name="Confirm").click()

    expect(latest_from_shop()).to_contain_text("confirmed", ignore_case=True)
    with server.database() as session:
        order = session.scalar(select(Order))
        assert (order.source, order.status, order.customer_name, order.total_minor) == (
            "whatsapp",
            "confirmed",
            "Asha Kumar",
            184800,
        )
        assert order.delivery_address == "Flat 4, Beth House\nKasarani"
        assert order.customer_phone == "+919876543210"
