"""Staff play the customer's phone in the sandbox: open the shop's list and pick a row, tap a reply button, send a
cart from the catalog and share a location, each reaching the webhook as Meta would post it."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from checkout import outbox
from checkout.models import Message
from checkout.whatsapp import interactive
from checkout.whatsapp.interactive import ListRow
from tests.admin_helpers import make_staff
from tests.browser.conftest import seed_test_shop
from tests.browser.test_sandbox_confirm import staff_signs_in

pytestmark = pytest.mark.browser

PHONE = "+919876543210"


def seed_shop_and_a_chat():
    """The shop, its owner, and a customer the bot has sent a product list and three reply buttons."""
    seed_test_shop()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")
    rows = [
        ListRow("product:kurta", "Cotton Kurta", "From ₹799"),
        ListRow("product:tawa", "Cast Iron Tawa", "₹899"),
    ]
    products = interactive.list_message(
        "chat_order", "Which one would you like?", "See products", rows, section_title="Kitchen", header="Menu"
    )
    outbox.enqueue_whatsapp(products, phone=PHONE, key="browser-list")
    buttons = interactive.reply_buttons(
        "chat_order", "Added to your cart.", [("more", "Add more"), ("cart", "View cart"), ("checkout", "Checkout")]
    )
    outbox.enqueue_whatsapp(buttons, phone=PHONE, key="browser-buttons")


def inbound(server, kind: str) -> list[Message]:
    with server.database() as session:
        rows = list(session.scalars(select(Message).where(Message.direction == "in", Message.kind == kind)))
        session.expunge_all()
        return rows


def test_customer_picks_a_row_taps_a_button_sends_a_cart_and_a_location(serve_app, new_context):
    server = serve_app(seed_shop_and_a_chat, WHATSAPP_PROVIDER="sandbox")
    staff = new_context(server).new_page()
    staff_signs_in(staff)
    staff.goto("/sandbox/chat/919876543210")
    messages = staff.get_by_role("log", name="Messages")

    product_list = messages.get_by_role("listitem").filter(has_text="Which one would you like?")
    expect(product_list).to_contain_text("Menu")
    product_list.get_by_text("See products").click()
    section = product_list.get_by_role("group", name="Kitchen")
    section.get_by_role("button", name=re.compile(r"^Cast Iron Tawa")).click()

    customer = messages.get_by_role("listitem").filter(has_text="Customer:")
    expect(customer.filter(has=staff.get_by_text("Cast Iron Tawa", exact=True))).to_have_count(1)
    [row_reply] = inbound(server, "interactive")
    assert row_reply.payload["interactive"]["list_reply"] == {
        "id": "product:tawa",
        "title": "Cast Iron Tawa",
        "description": "₹899",
    }

    buttons = messages.get_by_role("listitem").filter(has_text="Added to your cart.")
    buttons.get_by_role("button", name="View cart").click()
    expect(customer.filter(has=staff.get_by_text("View cart", exact=True))).to_have_count(1)
    assert [m.payload["interactive"]["button_reply"]["id"] for m in inbound(server, "interactive")[1:]] == ["cart"]

    staff.get_by_text("Send a cart").click()
    staff.get_by_label("Quantity of Cast Iron Tawa").fill("2")
    staff.get_by_label("Quantity of Cotton Kurta (Size M)").fill("1")
    staff.get_by_role("button", name="Send cart").click()
    cart = messages.get_by_role("table", name="🛒 Cart from the catalog")
    expect(cart).to_be_visible()
    expect(cart.get_by_role("row", name=re.compile(r"Cast Iron Tawa"))).to_contain_text("2")
    [order] = inbound(server, "order")
    assert sorted((i["product_retailer_id"], i["quantity"]) for i in order.payload["order"]["product_items"]) == [
        ("KUR-1", 1),
        ("TAW-0", 2),
    ]

    staff.get_by_text("Send a location").click()
    staff.get_by_label("Latitude").fill("19.0596")
    staff.get_by_label("Longitude").fill("72.8295")
    staff.get_by_label("Place name").fill("Bandra")
    staff.get_by_label("Address").fill("Hill Rd, Mumbai")
    staff.get_by_role("button", name="Send location").click()
    pin = messages.get_by_role("listitem").filter(has_text="Hill Rd, Mumbai")
    expect(pin.get_by_role("link", name=re.compile(r"19\.0596, 72\.8295 on a map"))).to_have_attribute(
        "href", re.compile(r"^https://www\.openstreetmap\.org/\?mlat=19\.0596&mlon=72\.8295")
    )
    [location] = inbound(server, "location")
    assert location.payload["location"]["name"] == "Bandra"
