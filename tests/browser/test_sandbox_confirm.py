"""Staff play the customer's phone in the WhatsApp sandbox: a storefront order is confirmed by tapping its button."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import LiveServer, seed_test_shop
from tests.browser.shopper import (
    add_to_cart,
    fill_checkout,
    handoff_reference,
    open_cart,
    prefilled_text,
    submit_checkout,
    whatsapp_link,
)

pytestmark = pytest.mark.browser


def seed_shop_and_owner():
    seed_test_shop()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")


def serve_sandbox(serve_app) -> LiveServer:
    return serve_app(seed_shop_and_owner, WHATSAPP_PROVIDER="sandbox")


def shopper_checks_out(page: Page) -> str:
    """Order one Cast Iron Tawa as Asha Kumar (cash on delivery); returns the order reference."""
    add_to_cart(page, "Cast Iron Tawa")
    open_cart(page)
    page.get_by_role("link", name="Checkout").click()
    fill_checkout(page)
    submit_checkout(page)
    return handoff_reference(page)


def staff_signs_in(page: Page) -> None:
    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_customer_confirms_a_storefront_order_by_tapping_confirm_in_the_sandbox(serve_app, new_context):
    server = serve_sandbox(serve_app)
    reference = shopper_checks_out(new_context(server).new_page())
    staff = new_context(server).new_page()
    staff_signs_in(staff)

    staff.goto("/sandbox")
    staff.get_by_role("list", name="Chats").get_by_role("link", name=re.compile(r"^Asha Kumar")).click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text("Asha Kumar")
    messages = staff.get_by_role("log", name="Messages")
    request = messages.get_by_role("listitem").filter(has_text=f"thank you for your order {reference}")
    expect(request).to_be_visible()
    expect(request.get_by_role("button", name="Cancel order")).to_be_visible()
    expect(request.get_by_role("img", name="Read")).to_be_visible()
    staff.evaluate("window.__noReload = 1")

    request.get_by_role("button", name="Confirm order").click()

    confirmed = messages.get_by_role("listitem").filter(has_text=f"your order {reference} from Test Shop is confirmed")
    expect(confirmed).to_be_visible()
    customer_reply = messages.get_by_role("listitem").filter(has_text="Customer:")
    expect(customer_reply.filter(has=staff.get_by_text("Confirm order", exact=True))).to_have_count(1)
    assert staff.evaluate("window.__noReload") == 1, "the tap reloaded the page instead of swapping the chat"

    composer = staff.get_by_label("Message", exact=True)
    composer.fill("Thank you, see you soon")
    staff.get_by_role("button", name="Send", exact=True).click()
    expect(messages.get_by_role("listitem").filter(has_text="Thank you, see you soon")).to_be_visible()
    expect(composer).to_have_value("")  # emptied by static/js/admin.js: the CSP allows no hx-on handler

    staff.get_by_role("link", name="Orders from this number").click()
    staff.get_by_role("table", name="Orders").get_by_role("link", name=reference).click()
    expect(staff.locator("#order-status")).to_have_text("Confirmed")
    timeline = staff.get_by_role("list").filter(has_text="Waiting for confirmation → Confirmed")
    expect(timeline).to_contain_text("customer")
    expect(timeline).to_contain_text("Confirmed by the customer on WhatsApp")


def test_without_javascript_pasting_the_prefilled_summary_verifies_the_number_and_confirm_works(serve_app, new_context):
    server = serve_sandbox(serve_app)
    shopper = new_context(server).new_page()
    reference = shopper_checks_out(shopper)
    summary = prefilled_text(whatsapp_link(shopper).get_attribute("href"))
    staff = new_context(server, java_script_enabled=False).new_page()
    staff_signs_in(staff)

    staff.goto("/sandbox")
    staff.get_by_label("Customer's WhatsApp number").fill("098765 43210")
    staff.get_by_label("First message").fill(summary)
    staff.get_by_role("button", name="Send as the customer").click()

    expect(staff).to_have_url(re.compile(r"/sandbox/chat/919876543210$"))
    messages = staff.get_by_role("log", name="Messages")
    handshake = messages.get_by_role("listitem").filter(has_text=f"We have your order {reference}")
    expect(handshake).to_be_visible()
    handshake.get_by_role("button", name="Confirm order").click()

    expect(messages).to_contain_text(f"your order {reference} from Test Shop is confirmed")
    with server.database() as session:
        from checkout.models import Order

        order = session.query(Order).filter_by(reference=reference).one()
        assert order.status == "confirmed" and order.phone_verified_at is not None
