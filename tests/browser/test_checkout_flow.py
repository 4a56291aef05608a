"""The storefront in a real browser: catalog → cart → checkout → WhatsApp handoff, with and without HTMX."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from checkout.models import Order, Variant
from tests.browser.conftest import MOBILE
from tests.browser.shopper import (
    ADDRESS,
    PHONE_E164,
    add_to_cart,
    cart_badge,
    cart_line,
    fill_checkout,
    handoff_reference,
    open_cart,
    open_product,
    option_pill,
    prefilled_text,
    submit_checkout,
    whatsapp_link,
)
from tests.factories import make_order

pytestmark = pytest.mark.browser

WA_ME_PREFIX = "https://wa.me/919876543210?text="
QR_CODE = "QR code that opens WhatsApp with your order"


def _order_in_database(live_server, variant_sku: str, quantity: int) -> tuple[str, str]:
    """Place an order directly (not through the browser); returns its reference and status token."""
    with live_server.database() as session:
        variant = session.scalar(select(Variant).where(Variant.sku == variant_sku))
        order = make_order([(variant, quantity)])
        return order.reference, order.status_token


def _order_count(live_server) -> int:
    with live_server.database() as session:
        return session.scalar(select(func.count(Order.id)))


def test_shopper_orders_two_products_with_options_and_is_handed_off_to_whatsapp(page, live_server):
    page.goto("/")
    page.get_by_label("Category").select_option(label="Clothing")
    expect(page).to_have_url(re.compile(r"[?&]category=clothing\b"))
    expect(page.get_by_role("link", name="Cast Iron Tawa")).to_have_count(0)
    open_product(page, "Cotton Kurta")
    expect(option_pill(page, "Size S")).to_be_checked()
    option_pill(page, "Size M").check()
    page.get_by_label("Quantity", exact=True).fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text("Added Cotton Kurta (Size M).")).to_be_visible()
    expect(cart_badge(page)).to_have_text("2")

    page.get_by_role("link", name="Shop", exact=True).click()
    page.get_by_role("searchbox", name="Search products").fill("dupatta")
    expect(page.get_by_role("link", name="Cotton Kurta")).to_have_count(0)
    open_product(page, "Silk Dupatta")
    option_pill(page, "Colour Gold").check()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text("Added Silk Dupatta (Colour Gold).")).to_be_visible()
    expect(cart_badge(page)).to_have_text("3")

    open_cart(page)
    expect(page.get_by_role("main").get_by_role("listitem")).to_have_count(2)
    expect(page.get_by_label("Quantity of Cotton Kurta (Size M)")).to_have_value("2")
    expect(cart_line(page, "Cotton Kurta")).to_contain_text("₹1,598.00")
    expect(page.get_by_label("Quantity of Silk Dupatta (Colour Gold)")).to_have_value("1")
    expect(cart_line(page, "Silk Dupatta")).to_contain_text("₹1,499.00")

    page.get_by_role("link", name="Checkout").click()
    expect(page.get_by_role("complementary", name="Order summary")).to_contain_text("₹3,147.00")
    fill_checkout(page)
    submit_checkout(page)

    reference = handoff_reference(page)
    href = whatsapp_link(page).get_attribute("href")
    assert href.startswith(WA_ME_PREFIX)
    assert "+" not in urlsplit(href).query
    text = prefilled_text(href)
    assert f"*Order {reference}*" in text
    assert "2 × Cotton Kurta (Size M) — ₹1,598.00" in text
    assert "1 × Silk Dupatta (Colour Gold) — ₹1,499.00" in text
    assert f"Deliver to: {ADDRESS}\n" in text
    assert "Payment: Cash on delivery" in text
    assert "*Total: ₹3,147.00*" in text
    token = urlsplit(page.url).path.split("/")[2]
    assert text.endswith(f"Order status: {live_server.url}/o/{token}")
    expect(cart_badge(page)).to_have_text("0")

    with live_server.database() as session:
        order = session.scalar(select(Order).where(Order.reference == reference))
        assert order.status == "pending"
        assert [(line.product_name, line.options_label, line.quantity) for line in order.lines] == [
            ("Cotton Kurta", "Size M", 2),
            ("Silk Dupatta", "Colour Gold", 1),
        ]
        assert (order.customer_phone, order.delivery_address, order.payment_method) == (PHONE_E164, ADDRESS, "cod")
        assert order.total_minor == 314700


def test_cart_quantity_change_and_removal_swap_in_place_with_htmx(page):
    add_to_cart(page, "Cotton Kurta", option="Size M")
    add_to_cart(page, "Cast Iron Tawa")
    open_cart(page)
    page.evaluate("window.__marker = 1")

    quantity = page.get_by_label("Quantity of Cotton Kurta (Size M)")
    quantity.fill("3")
    quantity.press("Enter")
    expect(cart_line(page, "Cotton Kurta")).to_contain_text("₹2,397.00")
    expect(cart_badge(page)).to_have_text("4")

    page.get_by_role("button", name="Remove Cast Iron Tawa").click()
    expect(cart_line(page, "Cast Iron Tawa")).to_have_count(0)
    expect(cart_badge(page)).to_have_text("3")
    assert page.evaluate("window.__marker") == 1, "the page was reloaded instead of swapped"


def test_leaving_an_edited_quantity_updates_the_cart_without_pressing_update(page):
    add_to_cart(page, "Cotton Kurta", option="Size M")
    open_cart(page)
    page.evaluate("window.__marker = 1")

    quantity = page.get_by_label("Quantity of Cotton Kurta (Size M)")
    quantity.fill("3")
    quantity.blur()  # fires "change", as tabbing away or tapping elsewhere does
    expect(cart_badge(page)).to_have_text("3", timeout=1_500)
    expect(cart_line(page, "Cotton Kurta")).to_contain_text("₹2,397.00", timeout=500)
    assert page.evaluate("window.__marker") == 1


def test_desktop_handoff_offers_qr_code_and_whatsapp_web(page, live_server):
    _, token = _order_in_database(live_server, "KUR-1", 2)
    page.goto(f"/o/{token}/whatsapp")

    expect(page.get_by_role("img", name=QR_CODE)).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.qr').complete")
    assert page.evaluate("document.querySelector('img.qr').naturalWidth") > 0  # the SVG loaded and drew
    web_link = page.get_by_role("link", name="open WhatsApp Web")
    expect(web_link).to_be_visible()
    expect(web_link).to_have_attribute(
        "href", re.compile(r"^https://web\.whatsapp\.com/send\?phone=919876543210&text=")
    )
    assert "2 × Cotton Kurta (Size M)" in prefilled_text(web_link.get_attribute("href"))
    # A long cart's QR code points at the short redirect instead; it must lead to the same prefilled chat.
    redirect = page.request.get(f"/o/{token}/wa", max_redirects=0)
    assert redirect.status == 302
    assert redirect.headers["location"] == whatsapp_link(page).get_attribute("href")


def test_phone_handoff_hides_the_qr_code(new_context, live_server):
    _, token = _order_in_database(live_server, "KUR-1", 2)
    phone = new_context(live_server, MOBILE).new_page()
    fetched = []
    phone.on("request", lambda request: fetched.append(request.url))
    phone.goto(f"/o/{token}/whatsapp")

    expect(whatsapp_link(phone)).to_be_visible()
    expect(whatsapp_link(phone)).to_have_attribute("href", re.compile("^" + re.escape(WA_ME_PREFIX)))
    expect(phone.get_by_role("img", name=QR_CODE)).to_be_hidden()
    expect(phone.get_by_role("link", name="open WhatsApp Web")).to_be_hidden()
    phone.wait_for_load_state("load")
    assert not [url for url in fetched if url.endswith("/qr.svg")]  # a phone never has the code drawn


def test_invalid_phone_is_reported_next_to_the_field_and_the_cart_is_kept(page, live_server):
    add_to_cart(page, "Cast Iron Tawa")
    open_cart(page)
    page.get_by_role("link", name="Checkout").click()
    fill_checkout(page, phone="12345")
    submit_checkout(page)

    phone = page.get_by_label("WhatsApp number")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_accessible_description(
        "That number isn't valid. Include the country code if it's not a local number."
    )
    expect(page.get_by_label("Your name")).to_have_value("Asha Kumar")
    expect(page.get_by_role("complementary", name="Order summary")).to_contain_text("1 × Cast Iron Tawa")
    expect(cart_badge(page)).to_have_text("1")
    assert _order_count(live_server) == 0

    phone.fill("98765 43210")
    submit_checkout(page)
    handoff_reference(page)
    expect(cart_badge(page)).to_have_text("0")
    assert _order_count(live_server) == 1


def test_status_link_on_handoff_page_opens_the_order_status_page(page, live_server):
    reference, token = _order_in_database(live_server, "DUP-1", 1)
    page.goto(f"/o/{token}/whatsapp")

    page.get_by_role("link", name="order status").click()
    expect(page).to_have_url(f"{live_server.url}/o/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {reference}")
    expect(page.get_by_text("Waiting for confirmation")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(ADDRESS)


def test_without_javascript_adding_to_cart_and_checking_out_still_work(new_context, live_server):
    page = new_context(live_server, java_script_enabled=False).new_page()
    page.goto("/")
    page.get_by_role("searchbox", name="Search products").fill("kurta")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]q=kurta\b"))
    open_product(page, "Cotton Kurta")
    page.get_by_label("Size L").check()
    page.get_by_label("Quantity", exact=True).fill("2")
    page.get_by_role("button", name="Add to cart").click()

    expect(page).to_have_url(f"{live_server.url}/cart")
    expect(page.get_by_text("Added Cotton Kurta to your cart.")).to_be_visible()
    expect(cart_badge(page)).to_have_text("2")
    page.get_by_label("Quantity of Cotton Kurta (Size L)").fill("3")
    page.get_by_label("Quantity of Cotton Kurta (Size L)").press("Enter")  # no Update button: Enter sends it
    expect(cart_line(page, "Cotton Kurta")).to_contain_text("₹2,397.00")
    expect(cart_badge(page)).to_have_text("3")

    page.get_by_role("link", name="Checkout").click()
    fill_checkout(page)
    submit_checkout(page)
    reference = handoff_reference(page)
    assert "3 × Cotton Kurta (Size L) — ₹2,397.00" in prefilled_text(whatsapp_link(page).get_attribute("href"))
    expect(cart_badge(page)).to_have_text("0")
    with live_server.database() as session:
        order = session.scalar(select(Order).where(Order.reference == reference))
        assert [(line.sku, line.quantity) for line in order.lines] == [("KUR-2", 3)]
