"""Shopping on a phone (390 × 844): choice pills, the sticky buy bar, and an add that survives leaving at once."""

import re
import threading

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from checkout.models import Order, Variant
from tests.browser.conftest import MOBILE, seed_test_shop
from tests.browser.shopper import (
    ADDRESS,
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
from tests.factories import make_product

pytestmark = pytest.mark.browser

SCREEN_HEIGHT = MOBILE["viewport"]["height"]


def seed_shop_with_shirts() -> None:
    """The test shop plus a shirt in two sizes and two colours; Size M in Blue is sold out."""
    seed_test_shop()
    shirt = make_product(
        "Linen Shirt",
        price_minor=109900,
        stock=2,
        sku="SHI",
        options=[
            {"Size": "S", "Colour": "White"},
            {"Size": "S", "Colour": "Blue"},
            {"Size": "M", "Colour": "White"},
            {"Size": "M", "Colour": "Blue"},
        ],
    )
    shirt.variants[0].price_minor = 99900
    shirt.variants[0].stock_on_hand = 20
    shirt.variants[3].stock_on_hand = 0


@pytest.fixture
def phone(new_context, serve_app):
    server = serve_app(seed_shop_with_shirts)
    return server, new_context(server, MOBILE).new_page()


def _in_view(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= SCREEN_HEIGHT


def test_options_are_pills_per_option_and_price_and_stock_follow_the_choice(phone):
    server, page = phone
    page.goto("/")
    open_product(page, "Linen Shirt")

    # One row of pills per option; the flat list of combinations is only for browsers without JavaScript.
    expect(page.get_by_role("group", name="Choose size and colour")).to_be_hidden()
    expect(page.get_by_role("group", name="Size", exact=True).get_by_role("radio")).to_have_count(2)
    expect(page.get_by_role("group", name="Colour", exact=True).get_by_role("radio")).to_have_count(2)
    expect(option_pill(page, "Size S")).to_be_checked()
    expect(option_pill(page, "Colour White")).to_be_checked()
    buy_bar = page.locator(".buy-bar")
    expect(buy_bar).to_contain_text("₹999.00")
    expect(buy_bar).to_contain_text("In stock")

    option_pill(page, "Colour Blue").check()
    expect(buy_bar).to_contain_text("₹1,099.00")
    expect(buy_bar).to_contain_text("Only 2 left")
    # With Blue chosen, Size M would be the sold-out combination: shown as unavailable.
    expect(option_pill(page, "Size M")).to_have_accessible_name("M (not available with this choice)")

    option_pill(page, "Size M").check()
    expect(buy_bar).to_contain_text("Sold out")
    expect(page.get_by_role("button", name="Sold out")).to_be_disabled()

    option_pill(page, "Colour White").check()
    add = page.get_by_role("button", name="Add to cart")
    expect(add).to_be_enabled()
    add.click()
    expect(page.get_by_text("Added Linen Shirt (Size M, Colour White).")).to_be_visible()
    expect(cart_badge(page)).to_have_text("1")
    with server.database() as session:
        m_white = session.scalar(select(Variant).where(Variant.sku == "SHI-2"))
        assert m_white.options == {"Size": "M", "Colour": "White"}


def test_a_value_sold_out_in_every_combination_is_a_disabled_pill(phone):
    server, page = phone
    with server.database() as session:
        session.scalar(select(Variant).where(Variant.sku == "KUR-2")).stock_on_hand = 0  # Size L
    page.goto("/")
    open_product(page, "Cotton Kurta")
    expect(option_pill(page, "Size L")).to_be_disabled()
    expect(option_pill(page, "Size L")).to_have_accessible_name("L (sold out)")
    expect(option_pill(page, "Size M")).to_be_enabled()


def test_add_to_cart_bar_stays_on_a_phone_screen(phone):
    _, page = phone
    page.goto("/")
    open_product(page, "Linen Shirt")
    add = page.get_by_role("button", name="Add to cart")
    assert _in_view(page, add), "the Add to cart button is below the fold"
    page.mouse.wheel(0, 2000)
    page.wait_for_function("() => window.scrollY > 0 || document.documentElement.scrollHeight <= innerHeight")
    assert _in_view(page, add)
    expect(page.locator(".buy-bar")).to_contain_text("₹999.00")


def test_leaving_at_once_after_an_add_keeps_the_item(phone):
    """The add commits on the server before it answers, and once the visit's first add has given the cart its
    cookie, an add's answer brings no new cookie: a shopper who leaves before it arrives (here its answer never
    reaches the page) finds the item in the cart. The product page itself sets no cookie, so the first add's
    answer is the one that carries it (docs/performance.md, "Storefront CSRF")."""
    server, page = phone
    answered = threading.Event()
    release = threading.Event()
    inner = server.app.wsgi_app

    def held_adds(environ, start_response):
        body = inner(environ, start_response)  # the add is done; only its answer is held back
        if environ["PATH_INFO"] == "/cart/add":
            answered.set()
            release.wait(5)
        return body

    page.goto("/")
    open_product(page, "Cast Iron Tawa")
    page.get_by_role("button", name="Add to cart").click()
    expect(cart_badge(page)).to_have_text("1")
    server.app.wsgi_app = held_adds
    page.get_by_role("button", name="Add to cart").click()
    assert answered.wait(5)
    page.goto("/cart")  # straight away, before the answer: no script on the page gets a say
    release.set()

    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    expect(cart_line(page, "Cast Iron Tawa")).to_have_count(1)
    expect(cart_badge(page)).to_have_text("2")


def test_cart_steppers_change_quantities_in_place_with_totals_and_a_sticky_checkout_bar(phone):
    _, page = phone
    page.goto("/")
    open_product(page, "Cast Iron Tawa")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text("Added Cast Iron Tawa")).to_be_visible()
    open_product_and_add(page, "Linen Shirt")
    open_cart(page)
    page.evaluate("window.__marker = 1")

    tawa = cart_line(page, "Cast Iron Tawa")
    expect(page.get_by_role("button", name=re.compile(r"^(Update|Save)"))).to_have_count(0)
    page.get_by_role("button", name="One more Cast Iron Tawa").click()
    expect(page.get_by_label("Quantity of Cast Iron Tawa")).to_have_value("2")
    expect(tawa.locator(".line-total")).to_have_text("₹1,798.00")
    expect(cart_badge(page)).to_have_text("3")
    totals = page.get_by_role("main").locator("dl.totals")
    expect(totals).to_contain_text("Total")
    # 2 × ₹899 + ₹999 + ₹50 delivery
    expect(totals.locator("dd.total")).to_have_text("₹2,847.00")

    page.get_by_role("button", name="One fewer Cast Iron Tawa").click()
    expect(page.get_by_label("Quantity of Cast Iron Tawa")).to_have_value("1")
    page.get_by_role("button", name="Remove Cast Iron Tawa").click()
    expect(cart_line(page, "Cast Iron Tawa")).to_have_count(0)
    expect(cart_badge(page)).to_have_text("1")
    assert page.evaluate("window.__marker") == 1, "the page was reloaded instead of swapped"

    # Line totals share one right edge; the checkout bar with the total stays on screen.
    shirt_total = cart_line(page, "Linen Shirt").locator(".line-total").bounding_box()
    subtotal = totals.locator("dd.subtotal").bounding_box()
    assert abs((shirt_total["x"] + shirt_total["width"]) - (subtotal["x"] + subtotal["width"])) < 2
    checkout = page.get_by_role("link", name="Checkout")
    assert _in_view(page, checkout)
    expect(page.locator(".checkout-bar")).to_contain_text("₹1,049.00")
    expect(cart_line(page, "Linen Shirt").locator(".cart-thumb")).to_be_visible()


def open_product_and_add(page, name: str) -> None:
    page.goto("/")
    open_product(page, name)
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text(f"Added {name}")).to_be_visible()


def test_checkout_reports_every_problem_at_once_in_a_summary_that_takes_focus(phone):
    _, page = phone
    open_product_and_add(page, "Cast Iron Tawa")
    page.goto("/checkout")
    name = page.get_by_label("Your name")
    expect(name).to_have_attribute("autocomplete", "name")
    number = page.get_by_label("WhatsApp number")
    expect(number).to_have_attribute("type", "tel")
    expect(number).to_have_attribute("inputmode", "tel")
    expect(number).to_have_attribute("autocomplete", "tel")
    expect(page.get_by_label("Delivery address")).to_have_attribute("autocomplete", "street-address")

    # On a phone the total sits right above the button, not only in the summary further down.
    button = page.get_by_role("button", name="Place order and continue on WhatsApp")
    total = page.locator("#place-order-total")
    expect(total).to_be_visible()
    expect(total).to_contain_text("₹949.00")
    expect(button).to_have_accessible_description(re.compile(r"₹949\.00"))
    total_box, button_box = total.bounding_box(), button.bounding_box()
    assert total_box["y"] + total_box["height"] <= button_box["y"] <= total_box["y"] + total_box["height"] + 40

    button.click()
    summary = page.get_by_role("heading", name="3 things to fix before we can place your order")
    expect(summary).to_be_visible()
    expect(page.locator("#error-summary")).to_be_focused()
    problems = page.locator("#error-summary").get_by_role("link")
    expect(problems).to_have_text(
        [
            "Your name: Please tell us your name.",
            "WhatsApp number: Please enter your WhatsApp number.",
            "Delivery address: Please give the delivery address.",
        ]
    )
    problems.nth(2).click()
    expect(page.get_by_label("Delivery address")).to_be_focused()


def test_back_from_whatsapp_the_shop_shows_the_waiting_order_and_its_status_page_leads_back(phone):
    _, page = phone
    open_product_and_add(page, "Cast Iron Tawa")
    page.goto("/checkout")
    fill_checkout(page)
    submit_checkout(page)
    reference = handoff_reference(page)

    page.goto("/")  # the shopper comes back from WhatsApp to the shop
    notice = page.get_by_role("list", name="Your orders").get_by_role("listitem")
    expect(notice).to_have_text(f"Your order {reference} is waiting in WhatsApp — view order {reference}")
    notice.get_by_role("link", name=f"view order {reference}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {reference}")

    ask = page.get_by_role("link", name="Ask Test Shop about this order on WhatsApp")
    assert prefilled_text(ask.get_attribute("href")) == f"About my order {reference}"
    page.get_by_role("link", name="Back to sending this order on WhatsApp").click()
    assert handoff_reference(page) == reference
    expect(whatsapp_link(page)).to_be_visible()


def test_a_second_tab_with_other_details_lands_on_the_first_order_and_is_told_so(phone):
    server, first = phone
    open_product_and_add(first, "Cast Iron Tawa")
    first.goto("/checkout")
    second = first.context.new_page()
    second.goto("/checkout")

    fill_checkout(first)
    submit_checkout(first)
    reference = handoff_reference(first)

    fill_checkout(second, address="Moi Avenue 4, Nairobi")
    submit_checkout(second)
    assert handoff_reference(second) == reference
    expect(second.get_by_role("status")).to_contain_text(
        f"Order {reference} was already placed with the details you gave first, so the new address was not used. "
        "To change them, send Test Shop a message on WhatsApp."
    )
    with server.database() as session:
        assert session.scalar(select(Order.delivery_address).where(Order.reference == reference)) == ADDRESS


def test_an_orders_page_opens_its_cart_again_and_an_old_link_says_the_cart_is_gone(phone):
    _, page = phone
    open_product_and_add(page, "Cast Iron Tawa")
    page.goto("/checkout")
    fill_checkout(page)
    submit_checkout(page)
    reference = handoff_reference(page)
    page.goto("/")
    page.get_by_role("list", name="Your orders").get_by_role("link", name=f"view order {reference}").click()
    page.get_by_role("link", name="Open this cart again").click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    expect(cart_line(page, "Cast Iron Tawa")).to_have_count(1)

    page.goto("/cart/open/a-cart-that-expired")
    expect(page.get_by_role("heading", name="This cart is no longer here")).to_be_visible()
    page.get_by_role("link", name="Browse the shop").click()
    expect(page.get_by_role("link", name="Cast Iron Tawa").first).to_be_visible()
