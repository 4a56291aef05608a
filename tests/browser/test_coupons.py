"""A discount code in a real browser: through the storefront checkout, and through the widget's drawer."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from checkout.models import Order, Variant
from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import MOBILE, seed_test_shop
from tests.browser.shopper import add_to_cart, fill_checkout, open_cart, prefilled_text, submit_checkout, whatsapp_link
from tests.browser.test_widget import add_two_items, host_site, open_shop, totals_in  # noqa: F401 (fixtures)
from tests.browser.test_widget import fill_checkout as fill_drawer
from tests.factories import make_coupon, make_order

pytestmark = pytest.mark.browser


def seed_with_codes() -> None:
    seed_test_shop()
    make_coupon("WELCOME10", kind="percent", value=10)
    make_coupon("BIGSPEND", kind="fixed", value=50000, minimum_subtotal_minor=500000)


def test_a_shopper_applies_a_code_at_checkout_and_the_order_and_whatsapp_carry_it(serve_app, new_context):
    server = serve_app(seed_with_codes)
    page = new_context(server).new_page()
    page.goto("/")
    add_to_cart(page, "Cast Iron Tawa", quantity=2)
    open_cart(page)
    page.get_by_role("link", name="Checkout").click()
    summary = page.get_by_role("complementary", name="Order summary")
    expect(summary).to_contain_text("₹1,848.00")  # 2 × 899 + 50

    fill_checkout(page)
    page.get_by_label("Discount code (optional)").fill("bigspend")
    page.get_by_role("button", name="Apply").click()
    code_box = page.get_by_label("Discount code (optional)")
    expect(code_box).to_have_accessible_description(
        "The code BIGSPEND needs a subtotal of at least ₹5,000.00: add ₹3,202.00 more."
    )
    expect(code_box).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Your name")).to_have_value("Asha Kumar")  # what was typed is kept

    code_box.fill("welcome10")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("Code WELCOME10 applied: you save ₹179.80.")
    expect(summary).to_contain_text("Discount (WELCOME10)")
    expect(summary.locator(".total")).to_have_text("₹1,668.20")  # 1,798.00 − 179.80 + 50.00

    submit_checkout(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("is reserved")
    expect(page.get_by_text("Discount (WELCOME10)", exact=True)).to_be_visible()
    assert "Discount (WELCOME10): −₹179.80" in prefilled_text(whatsapp_link(page).get_attribute("href"))
    with server.database() as session:
        order = session.scalar(select(Order))
        assert (order.coupon_code, order.discount_minor, order.total_minor) == ("WELCOME10", 17980, 166820)


def test_a_shopper_types_a_code_in_the_widget_drawer_and_the_order_carries_it(open_shop, host_site, new_context):  # noqa: F811
    server = open_shop()
    with server.database():
        make_coupon("WELCOME10", kind="percent", value=10)
    page = new_context(server).new_page()
    page.goto(host_site.url())
    add_two_items(page)
    page.get_by_role("button", name="Your order (3)").click()
    drawer = page.get_by_role("dialog", name="Your order")
    form_totals = drawer.locator("form dl.totals")
    expect(form_totals).to_contain_text("₹2,647.00")

    code = drawer.get_by_label("Discount code")
    code.fill("NOPE")
    code.blur()
    expect(drawer.get_by_text("There is no discount code 'NOPE'. Check the spelling.")).to_be_visible()
    code.fill("welcome10")
    code.blur()
    expect(form_totals).to_contain_text("₹2,387.30")  # 2,597.00 − 259.70 + 50.00
    assert totals_in(drawer.locator("form")) == {
        "Subtotal": "₹2,597.00",
        "WELCOME10": "−₹259.70",
        "Delivery": "₹50.00",
        "Total": "₹2,387.30",
    }
    expect(drawer.get_by_text("There is no discount code")).to_be_hidden()

    fill_drawer(page)
    page.get_by_role("button", name="Order on WhatsApp").click()
    expect(drawer).to_contain_text("is ready. Send it on WhatsApp to confirm.")
    with server.database() as session:
        order = session.scalar(select(Order))
        assert (order.coupon_code, order.discount_minor, order.total_minor) == ("WELCOME10", 25970, 238730)
    charged = totals_in(drawer.locator("div:has(> dl.totals)").first)
    assert charged["WELCOME10"] == "−₹259.70" and charged["Total"] == "₹2,387.30"


def test_a_manager_creates_a_code_pauses_it_and_sees_who_used_it(serve_app, new_context):
    def seed():
        seed_with_codes()
        make_staff("manager", email="manager@sunrise.example.com")

    server = serve_app(seed)
    page = new_context(server).new_page()
    page.goto("/admin/login")
    page.get_by_label("Email").fill("manager@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Discount codes").click()
    page.get_by_role("link", name="New discount code").click()
    page.get_by_label("Code").fill("diwali20")
    page.get_by_label("Percentage off").check()
    page.get_by_label("Percentage or amount off").fill("20")
    page.get_by_label("Uses in all (optional)").fill("50")
    page.get_by_role("button", name="Create code").click()
    expect(page.get_by_text("Code DIWALI20 created.")).to_be_visible()
    codes = page.get_by_role("table", name="Discount codes and their uses")
    expect(codes.get_by_role("row", name=re.compile("DIWALI20"))).to_contain_text("0 of 50")

    page.get_by_role("button", name="Pause DIWALI20").click()
    expect(page.get_by_text("Code DIWALI20 paused")).to_be_visible()
    expect(codes.get_by_role("row", name=re.compile("DIWALI20"))).to_contain_text("Paused")
    page.get_by_role("button", name="Resume DIWALI20").click()
    expect(codes.get_by_role("row", name=re.compile("DIWALI20"))).to_contain_text("Active")

    with server.database() as session:
        variant = session.scalar(select(Variant).where(Variant.sku == "TAW-0"))
        reference = make_order([(variant, 1)], coupon_code="DIWALI20").reference
    page.get_by_role("link", name="DIWALI20").click()
    usage = page.get_by_role("table", name="Orders that used DIWALI20")
    expect(usage).to_contain_text(reference)
    expect(usage).to_contain_text("₹179.80")


def test_a_code_applied_on_the_cart_page_reprices_it_in_place_and_goes_on_to_checkout(serve_app, new_context):
    server = serve_app(seed_with_codes)
    page = new_context(server, MOBILE).new_page()
    page.goto("/")
    add_to_cart(page, "Cast Iron Tawa", quantity=2)
    open_cart(page)
    page.evaluate("() => { window.__marker = 1; }")
    totals = page.get_by_role("main").locator("dl.totals")
    expect(totals.locator("dd.total")).to_have_text("₹1,848.00")  # 2 × 899 + 50
    page.get_by_label("Discount code").fill("welcome10")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Code WELCOME10 applied: you save ₹179.80.")).to_be_visible()
    expect(totals).to_contain_text("Discount (WELCOME10)")
    expect(totals.locator("dd.total")).to_have_text("₹1,668.20")  # 1,798.00 − 179.80 + 50.00
    assert page.evaluate("() => window.__marker") == 1, "the cart was reloaded instead of swapped"

    page.get_by_role("link", name="Checkout").click()
    expect(page.get_by_label("Discount code (optional)")).to_have_value("WELCOME10")
    expect(page.get_by_role("complementary", name="Order summary")).to_contain_text("Discount (WELCOME10)")
